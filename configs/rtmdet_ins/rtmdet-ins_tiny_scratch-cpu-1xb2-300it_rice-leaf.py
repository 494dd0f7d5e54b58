# RTMDet-Ins-tiny (mmdet's config, random init: nothing is downloaded) on the
# shipped rice_leaf_disease data with the schedule of the Mask R-CNN CPU
# recipes (AdamW lr 1e-3, 50 warm-up iterations, cosine, grad clipping,
# batch 2, 416x416 with scale jitter and flips): what a user would otherwise
# pick, trained under the same budget. RTMDet's mosaic/mix-up and EMA are
# left out so that only the model differs.
_base_ = 'mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py'

# feather-mmdet's runtime (configs/_base_/feather_runtime.py) stated here:
# mmdet's RTMDet config has custom_hooks of its own (EMA, pipeline switch),
# and mmengine refuses a key defined by two bases.
custom_imports = dict(imports=['feather_mmdet'], allow_failed_imports=False)
runner_type = 'FeatherRunner'

data_root = 'data/rice_leaf_disease/'
metainfo = dict(
    classes=('bacteria', 'brown_spot', 'leaf_smut'),
    palette=[(220, 20, 60), (255, 165, 0), (0, 0, 230)])
img_scale = (416, 416)
max_iters = 300

model = dict(
    backbone=dict(init_cfg=None),
    bbox_head=dict(num_classes=3),
    test_cfg=dict(max_per_img=100))

# RTMDet's own no-mosaic pipeline (its last epochs), at 416 with the Mask
# R-CNN recipes' jitter; without the HSV jitter the other recipes lack.
train_pipeline = _base_.train_pipeline_stage2
train_pipeline[2].update(scale=img_scale, ratio_range=(0.8, 1.25))
train_pipeline[3].crop_size = img_scale  # (w, h)
train_pipeline[7].size = img_scale
train_pipeline.pop(5)  # YOLOXHSVRandomAug
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale
test_pipeline[2].size = img_scale

train_dataloader = dict(
    batch_size=2,
    num_workers=1,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=None,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=100)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters,
        eta_min=1e-5,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
auto_scale_lr = dict(enable=False, base_batch_size=2)
# The runtime's hooks only (no EMA, no pipeline switch).
custom_hooks = [
    dict(type='StopOnInvalidLossHook'),
    dict(type='CheckpointCompatibilityHook'),
    dict(type='ResumeRandomStateHook'),
    dict(type='CPUSpeedHook'),
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
