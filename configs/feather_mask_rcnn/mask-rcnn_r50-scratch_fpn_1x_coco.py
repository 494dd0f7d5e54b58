# Baseline: mmdet's Mask R-CNN R50-FPN 1x with the same from-scratch settings
# as Feather Mask R-CNN, i.e. the Feather config with the dense modules back.
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py'

model = dict(
    backbone=dict(type='ResNet'),
    roi_head=dict(mask_head=dict(type='FCNMaskHead')))
