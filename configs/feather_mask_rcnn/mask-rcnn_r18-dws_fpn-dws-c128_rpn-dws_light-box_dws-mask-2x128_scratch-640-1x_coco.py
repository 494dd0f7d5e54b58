# Tiny Feather (candidate of the CPU latency line): the full variant shrunk
# where CPU time goes below 800 px: depthwise ResNet-18, a 128-channel
# depthwise FPN, RPN and RoI features, a 2-conv 128-channel mask head, 640x640
# input, 300/100 train/test proposals and 50 detections. 640x640, fastest
# runtime each: 0.62x RTMDet-Ins-tiny's latency (docs/benchmark.md).
_base_ = './mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_scratch-1x_coco.py'

img_scale = (640, 640)
channels = 128
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        mask_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels),
        mask_head=dict(
            in_channels=channels, conv_out_channels=channels, num_convs=2)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300)),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=50)))

train_pipeline = _base_.train_pipeline
train_pipeline[2].scale = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
