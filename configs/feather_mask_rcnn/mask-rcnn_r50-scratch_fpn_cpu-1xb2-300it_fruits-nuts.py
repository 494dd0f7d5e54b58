# Baseline for the CPU demo: mmdet's dense ResNet-50 and FCN mask head with
# exactly the Feather recipe (data, input size, RoI sampling, schedule).
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_cpu-1xb2-300it_fruits-nuts.py'

model = dict(
    backbone=dict(type='ResNet'),
    roi_head=dict(mask_head=dict(type='FCNMaskHead')))
