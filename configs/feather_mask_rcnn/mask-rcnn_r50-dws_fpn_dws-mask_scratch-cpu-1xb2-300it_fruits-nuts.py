# Feather Mask R-CNN on the shipped fruits_nuts data, CPU recipe (`make demo`):
# the dense recipe with the paper's depthwise backbone and mask head.
_base_ = './mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_fruits-nuts.py'

model = dict(
    backbone=dict(type='DepthwiseResNet'),
    roi_head=dict(mask_head=dict(type='DepthwiseFCNMaskHead')))
