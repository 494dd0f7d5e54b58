# mmdet's Mask R-CNN R50-FPN trained from scratch: every stage and the BN
# statistics train, and nothing is downloaded (no torchvision:// init).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

model = dict(backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None))
