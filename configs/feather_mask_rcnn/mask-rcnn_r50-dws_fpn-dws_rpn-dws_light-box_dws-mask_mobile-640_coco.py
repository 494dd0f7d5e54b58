# Mobile variant: the full depthwise model at 640x640 input with 300
# proposals at test time (1000 in mmdet's config).
_base_ = './mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_1x_coco.py'

img_scale = (640, 640)
model = dict(test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
