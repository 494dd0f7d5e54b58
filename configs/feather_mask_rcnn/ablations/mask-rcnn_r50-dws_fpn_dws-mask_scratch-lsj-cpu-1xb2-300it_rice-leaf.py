# Feather rice CPU recipe with large-scale jitter (as in mmdet's
# configs/strong_baselines, at CPU size): resize by 0.5-1.5x, then a random
# 416x416 crop, so an iteration costs what the shipped recipe's does (the
# jitter 0.8-1.25 without a crop would not). A recipe-ablation candidate.
_base_ = '../mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_rice-leaf.py'

img_scale = (416, 416)
train_pipeline = _base_.train_pipeline
train_pipeline[2].ratio_range = (0.5, 1.5)
train_pipeline.insert(
    3,
    dict(
        type='RandomCrop',
        crop_size=img_scale,
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True))
# A lesion cut to a sliver by the crop would give a zero-size box (NaN box
# loss at the first iteration, measured); drop them as mmdet's LSJ recipes do.
train_pipeline.insert(
    4, dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
