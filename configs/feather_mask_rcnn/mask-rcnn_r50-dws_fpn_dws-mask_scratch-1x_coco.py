# Feather Mask R-CNN (the paper model): the baseline with a depthwise-separable
# ResNet-50 and a depthwise-separable FCN mask head.
_base_ = './mask-rcnn_r50_fpn_scratch-1x_coco.py'

model = dict(
    backbone=dict(type='DepthwiseResNet'),
    roi_head=dict(mask_head=dict(type='DepthwiseFCNMaskHead')))
