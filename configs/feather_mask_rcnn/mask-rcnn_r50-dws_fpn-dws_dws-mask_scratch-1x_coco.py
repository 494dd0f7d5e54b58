# Feather + depthwise-separable FPN output convs ("+fpn").
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_scratch-1x_coco.py'

model = dict(neck=dict(type='DepthwiseFPN'))
