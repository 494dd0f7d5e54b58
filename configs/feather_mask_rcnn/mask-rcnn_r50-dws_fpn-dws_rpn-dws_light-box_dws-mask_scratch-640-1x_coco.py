# Mobile recipe of the full variant: trains and tests at 640x640 and keeps
# 300 proposals at test time (1000 in mmdet's config).
_base_ = './mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_scratch-1x_coco.py'

img_scale = (640, 640)
model = dict(test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))

train_pipeline = _base_.train_pipeline
train_pipeline[2].scale = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = img_scale
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
