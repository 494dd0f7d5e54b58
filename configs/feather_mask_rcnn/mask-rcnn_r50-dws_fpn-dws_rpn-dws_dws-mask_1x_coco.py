# Feather + depthwise FPN + depthwise-separable RPN conv ("+rpn").
_base_ = './mask-rcnn_r50-dws_fpn-dws_dws-mask_1x_coco.py'

model = dict(rpn_head=dict(type='DepthwiseRPNHead'))
