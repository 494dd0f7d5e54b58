# Feather + depthwise FPN output convs + depthwise RPN conv ("+rpn").
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_scratch-1x_coco.py'

model = dict(
    neck=dict(type='DepthwiseFPN'), rpn_head=dict(type='DepthwiseRPNHead'))
