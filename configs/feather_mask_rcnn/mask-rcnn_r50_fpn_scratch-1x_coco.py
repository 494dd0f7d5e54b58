# The dense baseline and root of the COCO configs here: mmdet's Mask R-CNN
# R50-FPN 1x (its model, COCO dataset, 1x schedule and runtime) trained from
# scratch (nothing is downloaded), with feather-mmdet's runtime.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_scratch.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py', '../_base_/feather_runtime.py'
]
