# The tiny model on the shipped rice_leaf_disease data, CPU recipe, with
# dense convs: the dense rice recipe with the tiny line's depth and widths
# (ResNet-18; 128-channel FPN, RPN and RoI features; light box head; 2x128
# mask head) of mask-rcnn_r18-dws_..._scratch-640-1x_coco.py, stated again
# because a recipe has one parent. The tiny Feather rice recipe is this
# config with four types swapped (backbone, FPN, RPN head, mask head): the
# dense twin of the less-data and dense-start comparisons (docs/curves.md).
_base_ = './mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_rice-leaf.py'

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
