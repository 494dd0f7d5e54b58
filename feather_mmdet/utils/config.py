# Copyright (c) feather-mmdet contributors. All rights reserved.
import os.path as osp
from typing import Union

from mmengine.config import Config
from mmengine.hub import get_config


def load_config(config: Union[str, Config]) -> Config:
    """Load a config path, an ``mmdet::`` name or pass a Config through.

    Raises:
        FileNotFoundError: ``config`` is a path that does not exist.
    """
    if isinstance(config, Config):
        return config
    if '::' in config:
        return get_config(config)
    if not osp.isfile(config):
        raise FileNotFoundError(f'config {config!r} does not exist')
    return Config.fromfile(config)
