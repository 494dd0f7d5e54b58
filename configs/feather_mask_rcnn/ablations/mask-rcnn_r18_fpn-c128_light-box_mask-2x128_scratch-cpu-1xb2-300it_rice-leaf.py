# Dense twin of the tiny Feather rice recipe, for the depthwise-vs-dense
# comparison at the tiny line's size (docs/curves.md, less data): the dense
# rice recipe with the tiny model's depth and widths (ResNet-18; 128-channel
# FPN, RPN and RoI features; light box head; 2x128 mask head). The tiny
# Feather is this config with four types swapped to their depthwise ones
# (backbone, FPN, RPN head, mask head); tests/test_configs.py checks it.
_base_ = '../mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_rice-leaf.py'

channels = 128
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
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
