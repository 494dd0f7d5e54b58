# A seconds-per-iteration version of the fruits_nuts CPU recipe for tests:
# depthwise ResNet-18, 160x120 input, 32-channel neck and heads, few proposals.
_base_ = '../../configs/feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_fruits-nuts.py'  # noqa: E501

img_scale = (160, 120)
channels = 32
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        mask_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=64),
        mask_head=dict(
            in_channels=channels, conv_out_channels=channels, num_convs=2)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=200, max_per_img=50),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=50), rcnn=dict(max_per_img=20)))

train_pipeline = _base_.train_pipeline
train_pipeline[2].scale = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
