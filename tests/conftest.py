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
