# Ablation: depthwise-separable ResNet-50 only, mmdet's FCN mask head.
_base_ = './mask-rcnn_r50_fpn_scratch-1x_coco.py'

model = dict(backbone=dict(type='DepthwiseResNet'))
