# Ablation: depthwise-separable FCN mask head only, dense ResNet-50.
_base_ = './mask-rcnn_r50_fpn_scratch-1x_coco.py'

model = dict(roi_head=dict(mask_head=dict(type='DepthwiseFCNMaskHead')))
