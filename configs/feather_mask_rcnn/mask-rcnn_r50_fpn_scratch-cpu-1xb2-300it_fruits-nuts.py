# CPU recipe on the shipped fruits_nuts data (14 train / 4 val images, 3
# classes), dense baseline; its Feather twin (`make demo`) only swaps types.
# What a 2-core CPU and 14 images need: 320x240 input with scale jitter and 3
# flips, 300/100 RPN proposals in train/test, 64 sampled RoIs, RoIAlign with a
# 2x2 grid, AdamW (lr 1e-3, batch 2) with 50 warm-up iterations, cosine decay
# and grad clipping. The stock recipe (SGD lr 0.02, 512 RoIs) diverged to NaN
# within 10 iterations here.
_base_ = './mask-rcnn_r50_fpn_scratch-1x_coco.py'

data_root = 'data/fruits_nuts/'
metainfo = dict(
    classes=('date', 'fig', 'hazelnut'),
    palette=[(220, 20, 60), (119, 11, 32), (0, 0, 230)])
img_scale = (320, 240)
max_iters = 300

# A fixed 2x2 sampling grid: the adaptive default costs more on CPU.
roi_layer = dict(sampling_ratio=2)
model = dict(
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=roi_layer),
        mask_roi_extractor=dict(roi_layer=roi_layer),
        bbox_head=dict(num_classes=3),
        mask_head=dict(num_classes=3)),
    # The RoI heads dominate CPU time below 800 px; at most 13 objects/image.
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=50)))

train_pipeline = _base_.train_pipeline
train_pipeline[2] = dict(
    type='RandomResize',
    scale=img_scale,
    ratio_range=(0.8, 1.25),
    keep_ratio=True)
train_pipeline[3] = dict(
    type='RandomFlip',
    prob=[0.25, 0.25, 0.25],
    direction=['horizontal', 'vertical', 'diagonal'])
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale

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
    val_interval=100)  # 4 val images: a few seconds, shows the AP curve
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

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
