# Tiny Feather on the shipped rice_leaf_disease data, CPU recipe: the Feather
# rice recipe with the tiny model of
# mask-rcnn_r18-dws_fpn-dws-c128_..._scratch-640-1x_coco.py (depthwise
# ResNet-18; 128-channel depthwise FPN, RPN and RoI features; light box head;
# 2x128 depthwise mask head). Stated again because a recipe cannot have two
# parents; tests/test_configs.py checks that the two models are the same.
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_rice-leaf.py'

channels = 128
model = dict(
    backbone=dict(depth=18),
    neck=dict(
        type='DepthwiseFPN',
        in_channels=[64, 128, 256, 512],
        out_channels=channels),
    rpn_head=dict(
        type='DepthwiseRPNHead', in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        mask_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(
            type='ConvFCBBoxHead',
            in_channels=channels,
            num_shared_convs=1,
            num_shared_fcs=1,
            conv_out_channels=32,
            fc_out_channels=256),
        mask_head=dict(
            in_channels=channels, conv_out_channels=channels, num_convs=2)))
