# The paper's recipe: SGD, lr 0.002 at total batch 8 (8 GPUs x 1), 20 epochs.
_base_ = './mask-rcnn_r50-dws_fpn_dws-mask_scratch-1x_coco.py'

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(batch_size=1)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', end=max_epochs, milestones=[16, 19])
]
optim_wrapper = dict(optimizer=dict(lr=0.002))
# `--auto-scale-lr` rescales lr for another total batch size.
auto_scale_lr = dict(base_batch_size=8)
