# Copyright (c) feather-mmdet contributors. All rights reserved.
from typing import Union

from mmengine.config import Config
from mmengine.hub import get_config


def load_config(config: Union[str, Config]) -> Config:
    """Load a config path, an ``mmdet::`` name or pass a Config through.

    A missing path raises mmengine's ``FileNotFoundError``, which names it.
    """
    if isinstance(config, Config):
        return config
    return get_config(config) if '::' in config else Config.fromfile(config)


def set_max_iters(cfg: Config, iters: int) -> Config:
    """Change an iteration-based recipe's length, in place, keeping its
    schedule consistent: the cosine decay ends at ``iters``, the linear
    warm-up takes at most the first fifth, validation and checkpoints come
    at least once (at the end).

    Returns:
        Config: ``cfg``.
    """
    if iters < 1:
        raise ValueError(f'max_iters={iters}: train at least 1 iteration')
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = min(
        cfg.train_cfg.get('val_interval', iters), iters)
    for sched in cfg.get('param_scheduler', None) or []:
        if sched.get('type') == 'CosineAnnealingLR':
            sched.T_max = sched.end = iters
        if sched.get('type') == 'LinearLR':
            sched.end = min(sched.end, max(iters // 5, 1))
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint:
        checkpoint.interval = min(checkpoint.get('interval', iters), iters)
    return cfg
