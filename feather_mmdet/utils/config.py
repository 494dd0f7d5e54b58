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
