# Tiny Feather on the shipped rice_leaf_disease data, CPU recipe: its dense
# twin (the tiny model of mask-rcnn_r18-dws_..._scratch-640-1x_coco.py with
# dense convs) with the depthwise-separable backbone, FPN, RPN head and mask
# head; tests/test_configs.py checks that the two tiny models are the same.
_base_ = './mask-rcnn_r18_fpn-c128_light-box_mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py'

model = dict(
    backbone=dict(type='DepthwiseResNet'),
    neck=dict(type='DepthwiseFPN'),
    rpn_head=dict(type='DepthwiseRPNHead'),
    roi_head=dict(mask_head=dict(type='DepthwiseFCNMaskHead')))
