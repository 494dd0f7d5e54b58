# mmdet's default runtime with feather-mmdet's (FeatherRunner and its hooks),
# logging and checkpointing by iteration for the CPU schedules.
_base_ = ['mmdet::_base_/default_runtime.py', './feather_runtime.py']

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
