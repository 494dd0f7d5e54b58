"""Shared builders for the tests (imported as ``helpers``; pytest puts this
folder on ``sys.path``)."""
import os.path as osp
from typing import Union

from mmengine.analysis import parameter_count
from mmengine.config import Config
from torch import nn

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'feather_mask_rcnn')
TINY_CONFIG = osp.join(REPO_ROOT, 'tests', 'data', 'tiny_fruits.py')
FRUITS = osp.join(REPO_ROOT, 'data', 'fruits_nuts')

BASELINE = 'mask-rcnn_r50_fpn_scratch-1x_coco.py'
PAPER = 'mask-rcnn_r50-dws_fpn_dws-mask_scratch-1x_coco.py'
FULL = 'mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_scratch-1x_coco.py'


def config(name: str) -> Config:
    """Load a config of ``configs/feather_mask_rcnn`` by file name."""
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def build(name_or_cfg: Union[str, dict]) -> nn.Module:
    """Build (random init) the model of a config name or a model dict."""
    from mmdet.registry import MODELS
    model_cfg = config(name_or_cfg).model if isinstance(
        name_or_cfg, str) else name_or_cfg
    return MODELS.build(model_cfg)


def params(module: nn.Module) -> int:
    """Number of parameters, counted by mmengine."""
    return parameter_count(module)['']


def point_to(cfg: Config, root: str) -> Config:
    """Make every split and evaluator of ``cfg`` read from ``root``."""
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].ann_file = osp.join(
            root, 'annotations', 'val.json')
    return cfg


def tiny_cfg(work_dir, max_iters: int = 2, **options) -> Config:
    """The tiny fruits config, deterministic, logging every iteration."""
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.log_processor.window_size = 1
    # One visualizer per run: mmengine reuses instances by name.
    cfg.visualizer.name = f'visualizer-{work_dir}'
    cfg.randomness = dict(seed=0, deterministic=True)
    point_to(cfg, FRUITS + '/')
    cfg.merge_from_dict(options)
    return cfg
