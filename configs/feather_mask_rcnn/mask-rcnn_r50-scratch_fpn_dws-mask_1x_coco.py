# Ablation: depthwise-separable FCN mask head only, dense ResNet-50.
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py'

model = dict(backbone=dict(type='ResNet'))
