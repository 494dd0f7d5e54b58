# Ablation: depthwise-separable ResNet-50 only, mmdet's FCN mask head.
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py'

model = dict(roi_head=dict(mask_head=dict(type='FCNMaskHead')))
