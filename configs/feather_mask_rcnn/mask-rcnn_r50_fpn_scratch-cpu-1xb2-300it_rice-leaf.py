# CPU recipe on the shipped rice_leaf_disease data (97 train / 16 val images,
# 3 lesion classes), dense baseline; the Feather twin only swaps types.
# The fruits recipe's model settings (2x2 RoIAlign, 300 train proposals) with
# what small lesions need (median box 28x28 px, up to 40 per image):
# - RPN anchors of scale 4 (16-256 px over P2-P6) instead of 8 (32-512 px):
#   a 28 px lesion has IoU < 0.7 with every 32 px anchor, so few positives;
# - 128 sampled RoIs (32 positives), 300 test proposals, 100 detections.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_scratch.py',
    '../_base_/datasets/rice_leaf_disease_instance.py',
    '../_base_/schedules/schedule_cpu_300it.py', '../_base_/cpu_runtime.py'
]

num_classes = len(_base_.metainfo['classes'])
roi_layer = dict(sampling_ratio=2)
model = dict(
    rpn_head=dict(anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=roi_layer),
        mask_roi_extractor=dict(roi_layer=roi_layer),
        bbox_head=dict(num_classes=num_classes),
        mask_head=dict(num_classes=num_classes)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=300), rcnn=dict(max_per_img=100)))
