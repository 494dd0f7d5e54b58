import glob
import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config

from conftest import CONFIG_DIR, REPO_ROOT

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True))


def _count_params(module):
    return sum(p.numel() for p in module.parameters())


def test_configs_found():
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(
        imports=['feather_mmdet'], allow_failed_imports=False)
    # Nothing may download: backbone init is random or a local file.
    init_cfg = cfg.model.backbone.get('init_cfg')
    assert init_cfg is None or '://' not in init_cfg.get('checkpoint', '')
    model = MODELS.build(cfg.model)
    assert _count_params(model) > 0


def _build(name):
    return MODELS.build(Config.fromfile(osp.join(CONFIG_DIR, name)).model)


def test_paper_model_vs_baseline_params():
    base = _build('mask-rcnn_r50-scratch_fpn_1x_coco.py')
    feather = _build('mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py')
    assert type(feather.backbone).__name__ == 'DepthwiseResNet'
    assert type(feather.roi_head.mask_head).__name__ == 'DepthwiseFCNMaskHead'
    assert _count_params(feather.backbone) <= 0.60 * _count_params(
        base.backbone)
    assert _count_params(feather) <= 0.75 * _count_params(base)
    assert _count_params(feather.roi_head.mask_head.convs) <= 0.25 * \
        _count_params(base.roi_head.mask_head.convs)


def test_ablations_change_one_component():
    base = _build('mask-rcnn_r50-scratch_fpn_1x_coco.py')
    backbone_only = _build('mask-rcnn_r50-dws_fpn_1x_coco.py')
    head_only = _build('mask-rcnn_r50-scratch_fpn_dws-mask_1x_coco.py')
    assert type(backbone_only.backbone).__name__ == 'DepthwiseResNet'
    assert type(backbone_only.roi_head.mask_head).__name__ == 'FCNMaskHead'
    assert type(head_only.backbone).__name__ == 'ResNet'
    assert type(head_only.roi_head.mask_head).__name__ == \
        'DepthwiseFCNMaskHead'
    assert _count_params(base.neck) == _count_params(backbone_only.neck)


def test_paper_recipe():
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'mask-rcnn_r50-dws_fpn_dws-mask_8xb1-20e_coco.py'))
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    assert cfg.optim_wrapper.optimizer.lr == 0.002
    assert cfg.auto_scale_lr.base_batch_size == 8
    assert cfg.train_cfg.max_epochs == 20


def test_registry_resolves_after_custom_imports():
    from mmengine.utils import import_modules_from_strings
    import_modules_from_strings(['feather_mmdet'])
    for name in ('DepthwiseResNet', 'DepthwiseFCNMaskHead'):
        assert MODELS.get(name) is not None, name
