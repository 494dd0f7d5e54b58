# RTMDet-Ins-tiny (mmdet's model, random init: nothing is downloaded) on the
# shipped rice_leaf_disease data with the dataset, CPU schedule and runtime
# of the Mask R-CNN CPU recipes (AdamW lr 1e-3, 50 warm-up iterations,
# cosine, grad clipping, batch 2, 416x416 with scale jitter): what a user
# would otherwise pick, trained under the same budget. RTMDet's mosaic/mix-up
# and EMA are left out so that only the model differs.
_base_ = [
    '../_base_/models/rtmdet-ins_tiny.py',
    '../_base_/datasets/rice_leaf_disease_instance.py',
    '../_base_/schedules/schedule_cpu_300it.py', '../_base_/cpu_runtime.py'
]

img_scale = (416, 416)
model = dict(bbox_head=dict(num_classes=len(_base_.metainfo['classes'])))

# RTMDet's own no-mosaic pipeline (its last epochs) with the Mask R-CNN
# recipes' jitter, without the HSV jitter the other recipes lack; the crop
# and pad keep the canvas divisible by 32 for the PAFPN.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(
        type='LoadAnnotations',
        with_bbox=True,
        with_mask=True,
        poly2mask=False),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.8, 1.25),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_size=img_scale,
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(pin_memory=True, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
