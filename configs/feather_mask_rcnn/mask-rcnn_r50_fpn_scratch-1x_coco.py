# The dense baseline and root of this folder: mmdet's Mask R-CNN R50-FPN 1x
# trained from scratch (nothing is downloaded), with feather-mmdet's runtime.
# Every other config here is a child of this one or of the paper model.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/feather_runtime.py'
]

custom_imports = dict(imports=['feather_mmdet'], allow_failed_imports=False)

# From scratch: train every stage and the BN statistics.
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None))
