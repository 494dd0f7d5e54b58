# The paper's recipe: SGD, lr 0.002 at total batch 8, 20 epochs.
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py'

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(batch_size=1)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[16, 19],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.002))
# lr 0.002 is for 8 images per step; `--auto-scale-lr` rescales it for
# another total batch size.
auto_scale_lr = dict(base_batch_size=8)
