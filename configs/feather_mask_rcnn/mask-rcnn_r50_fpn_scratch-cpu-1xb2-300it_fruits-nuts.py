# CPU recipe on the shipped fruits_nuts data (14 train / 4 val images, 3
# classes), dense baseline; its Feather twin (`make demo`) only swaps types.
# The dataset, the CPU schedule and runtime come from ../_base_/; what a
# 2-core CPU needs of the model: 300/100 RPN proposals in train/test, 64
# sampled RoIs and RoIAlign with a 2x2 grid (the RoI heads dominate CPU time
# below 800 px; at most 13 objects per image).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_scratch.py',
    '../_base_/datasets/fruits_nuts_instance.py',
    '../_base_/schedules/schedule_cpu_300it.py', '../_base_/cpu_runtime.py'
]

num_classes = len(_base_.metainfo['classes'])
# A fixed 2x2 sampling grid: the adaptive default costs more on CPU.
roi_layer = dict(sampling_ratio=2)
model = dict(
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=roi_layer),
        mask_roi_extractor=dict(roi_layer=roi_layer),
        bbox_head=dict(num_classes=num_classes),
        mask_head=dict(num_classes=num_classes)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=50)))
