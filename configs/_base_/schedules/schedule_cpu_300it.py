# The CPU schedule of the shipped recipes: 300 iterations of AdamW (lr 1e-3,
# batch 2) with 50 warm-up iterations, cosine decay and grad clipping, val
# every 100. mmdet's stock recipe (SGD lr 0.02, 512 RoIs) diverged to NaN
# within 10 iterations at this batch size. Change the length with
# `feather_mmdet.utils.config.set_max_iters` (or the tools' --max-iters),
# which keeps the cosine and the warm-up in step.
max_iters = 300
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters,
        eta_min=1e-5,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
auto_scale_lr = dict(enable=False, base_batch_size=2)
