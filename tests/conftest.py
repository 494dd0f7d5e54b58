import os.path as osp

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'feather_mask_rcnn')


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Deterministic random init; 2 threads like the CI machine."""
    torch.manual_seed(0)
    torch.set_num_threads(2)

TINY_CONFIG = osp.join(REPO_ROOT, 'tests', 'data', 'tiny_fruits.py')
FRUITS = osp.join(REPO_ROOT, 'data', 'fruits_nuts')


def point_to(cfg, root):
    """Make every split and evaluator of ``cfg`` read from ``root``."""
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].ann_file = osp.join(
            root, 'annotations', 'val.json')
    return cfg


def tiny_cfg(work_dir, max_iters=2, **options):
    """The tiny fruits config, deterministic, logging every iteration."""
    from mmengine.config import Config
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
