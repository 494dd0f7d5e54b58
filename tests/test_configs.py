"""The config tree: every config builds, inherits the mmdet way, and the
variants differ from their parent only where their names say."""
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest
from mmengine.config import Config

from helpers import BASELINE, CONFIG_DIR, PAPER, REPO_ROOT, build, config, \
    params

CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
# Recipe-ablation candidates (docs/recipe_ablation.md): children of the CPU
# recipes, one factor each.
ABLATIONS = sorted(glob.glob(osp.join(CONFIG_DIR, 'ablations', '*.py')))
RECIPE = re.compile(r'scratch-(cpu|640)')  # data/size recipes: +1 level
# Roots: the COCO baseline and the dense CPU recipe of each shipped dataset,
# each composed of one model, one dataset, one schedule and one runtime base.
ROOTS = (BASELINE, 'mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_fruits-nuts.py',
         'mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_rice-leaf.py')
RTMDET = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'rtmdet_ins',
                                   '*.py')))
BASE_DIR = osp.join(REPO_ROOT, 'configs', '_base_')


def _parent(path):
    """The in-folder `_base_` of a config, or None for a root (a config
    composed of `configs/_base_/` files and mmdet's)."""
    text = open(path).read()
    match = re.search(r"_base_ = '(\.\.?/[^']+)'", text)
    return osp.normpath(osp.join(osp.dirname(path), match.group(1))) \
        if match else None


def _bases(path):
    """The `_base_` list of a root config."""
    text = open(path).read()
    match = re.search(r'_base_ = \[([^\]]+)\]', text)
    return re.findall(r"'([^']+)'", match.group(1)) if match else []


def _depth(path):
    depth = 0
    while (path := _parent(path)) is not None:
        depth += 1
    return depth


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(
        imports=['feather_mmdet'], allow_failed_imports=False)
    # Nothing may download: backbone init is random or a local file.
    assert cfg.model.backbone.get('init_cfg') is None
    assert cfg.runner_type == 'FeatherRunner'
    model = build(cfg.model)
    backbone = 'DepthwiseResNet' if re.search(r'_r\d+-dws_', path) \
        else 'ResNet'
    assert type(model.backbone).__name__ == backbone
    mask_head = ('DepthwiseFCNMaskHead' if 'dws-mask' in path else
                 'FCNMaskHead')
    assert type(model.roi_head.mask_head).__name__ == mask_head


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_inheritance_depth_and_names(path):
    name = osp.basename(path)
    # {algorithm}_{components...}_{training settings}_{dataset}.py
    assert re.fullmatch(
        r'mask-rcnn(_[a-z0-9-]+)+_(coco|fruits-nuts|rice-leaf)\.py',
        name), name
    assert '_scratch-' in name, 'every config here trains from scratch'
    depth = _depth(path)
    if name in ROOTS:
        assert depth == 0
    else:
        assert 1 <= depth <= (3 if RECIPE.search(name) else 2), depth


def test_paper_model_is_the_baseline_with_two_types_swapped():
    base, paper = config(BASELINE), config(PAPER)
    assert paper.model.backbone.type == 'DepthwiseResNet'
    assert paper.model.roi_head.mask_head.type == 'DepthwiseFCNMaskHead'
    paper.model.backbone.type = 'ResNet'
    paper.model.roi_head.mask_head.type = 'FCNMaskHead'
    assert paper.model == base.model
    assert paper.train_dataloader == base.train_dataloader


def test_paper_model_vs_baseline_params():
    base, feather = build(BASELINE), build(PAPER)
    assert params(feather.backbone) <= 0.60 * params(base.backbone)
    assert params(feather) <= 0.75 * params(base)
    assert params(feather.roi_head.mask_head.convs) <= 0.25 * params(
        base.roi_head.mask_head.convs)


def test_recipes_train_and_test_at_the_same_size():
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        train = [t for t in cfg.train_dataloader.dataset.pipeline
                 if 'scale' in t]
        test = [t for t in cfg.test_dataloader.dataset.pipeline
                if 'scale' in t]
        assert train[0].scale == test[0].scale, osp.basename(path)


def test_paper_recipe():
    cfg = config('mask-rcnn_r50-dws_fpn_dws-mask_scratch-8xb1-20e_coco.py')
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    assert cfg.optim_wrapper.optimizer.lr == 0.002
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.auto_scale_lr.base_batch_size == 8
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.param_scheduler[1].milestones == [16, 19]


@pytest.mark.slow
def test_custom_imports_register_the_modules():
    """A fresh process: loading a config imports feather_mmdet through
    `custom_imports`, which registers the modules in mmdet's registry."""
    code = ('import sys\n'
            'from mmengine.config import Config\n'
            'from mmdet.registry import MODELS\n'
            'assert MODELS.get("DepthwiseResNet") is None\n'
            'assert "feather_mmdet" not in sys.modules\n'
            'cfg = Config.fromfile(sys.argv[1])\n'
            'for name in ("DepthwiseResNet", "DepthwiseFCNMaskHead",\n'
            '             "DepthwiseFPN", "DepthwiseRPNHead"):\n'
            '    assert MODELS.get(name) is not None, name\n'
            'print(type(MODELS.build(cfg.model.backbone)).__name__)\n')
    out = subprocess.run(
        [sys.executable, '-c', code, osp.join(CONFIG_DIR, PAPER)],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('DepthwiseResNet')


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(
    REPO_ROOT, 'configs', 'rtmdet_ins', '*.py'))), ids=osp.basename)
def test_rtmdet_recipes_build_without_downloads(path):
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.init_cfg is None
    assert cfg.runner_type == 'FeatherRunner'
    # the same hooks as every other config (feather_runtime.py), no EMA
    runtime = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                       'feather_runtime.py'))
    assert cfg.custom_hooks == runtime.custom_hooks
    model = build(cfg.model)
    assert model.bbox_head.num_classes == 3
    scales = [t.get('scale') or t.get('size') for t in
              cfg.train_dataloader.dataset.pipeline + list(
                  cfg.test_dataloader.dataset.pipeline)
              if t.type in ('RandomResize', 'Resize', 'Pad')]
    assert len(set(scales)) == 1, scales  # trains and tests at one size


@pytest.mark.parametrize('path', ABLATIONS, ids=osp.basename)
def test_ablation_configs_build_and_change_one_factor(path):
    cfg = Config.fromfile(path)
    model = build(cfg.model)
    name = osp.basename(path)
    assert type(model.backbone).__name__ == (
        'DepthwiseResNet' if re.search(r'_r\d+-dws_', name) else 'ResNet')
    if 'gn-all' in name:
        for module in (model.backbone, model.neck, model.roi_head.mask_head):
            norms = [type(m).__name__ for m in module.modules()
                     if 'Norm' in type(m).__name__]
            assert norms and set(norms) == {'GroupNorm'}, name
    if 'lsj' in name:
        types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
        assert 'RandomCrop' in types


def test_gn_feather_is_the_gn_dense_recipe_with_two_types_swapped():
    dense = Config.fromfile(osp.join(
        CONFIG_DIR, 'ablations',
        'mask-rcnn_r50_fpn_gn-all_scratch-cpu-1xb2-300it_rice-leaf.py'))
    feather = Config.fromfile(osp.join(
        CONFIG_DIR, 'ablations',
        'mask-rcnn_r50-dws_fpn_dws-mask_gn-all_scratch-cpu-1xb2-300it_'
        'rice-leaf.py'))
    dense.model.backbone.type = 'DepthwiseResNet'
    dense.model.roi_head.mask_head.type = 'DepthwiseFCNMaskHead'
    assert dense.model == feather.model


def test_tiny_feather_is_the_tiny_dense_twin_with_four_types_swapped():
    """The tiny line's depthwise-vs-dense pair differs in the conv types
    only: same widths, heads, data and schedule."""
    dense = config('mask-rcnn_r18_fpn-c128_light-box_mask-2x128_scratch-'
                   'cpu-1xb2-300it_rice-leaf.py')
    feather = config('mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_'
                     'dws-mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py')
    assert dense.model != feather.model
    dense.model.backbone.type = 'DepthwiseResNet'
    dense.model.neck.type = 'DepthwiseFPN'
    dense.model.rpn_head.type = 'DepthwiseRPNHead'
    dense.model.roi_head.mask_head.type = 'DepthwiseFCNMaskHead'
    assert dense.model == feather.model
    for key in ('train_dataloader', 'val_dataloader', 'train_cfg',
                'optim_wrapper', 'param_scheduler'):
        assert dense[key] == feather[key], key


_DATASET = re.compile(r'_(coco|fruits-nuts|rice-leaf)\.py$')
# Keys a recipe gets from its schedule and runtime bases, never states.
_SCHEDULE_RUNTIME = re.compile(
    r'^(train_cfg|val_cfg|test_cfg|optim_wrapper|param_scheduler|'
    r'auto_scale_lr|max_iters|custom_imports|runner_type|custom_hooks|'
    r'default_hooks|log_processor|data_root|metainfo|val_evaluator|'
    r'test_evaluator) = ', re.M)


@pytest.mark.parametrize('path', CONFIGS + ABLATIONS, ids=osp.basename)
def test_no_recipe_inherits_another_dataset(path):
    parent = _parent(path)
    if parent is not None:
        assert _DATASET.search(parent).group(1) == \
            _DATASET.search(path).group(1), (path, parent)


@pytest.mark.parametrize(
    'path', [osp.join(CONFIG_DIR, n) for n in ROOTS[1:]] + RTMDET,
    ids=osp.basename)
def test_cpu_recipes_compose_dataset_schedule_and_runtime(path):
    bases = _bases(path)
    kinds = [b.split('/')[2] for b in bases]
    assert kinds == ['models', 'datasets', 'schedules', 'cpu_runtime.py'], \
        bases
    assert not _SCHEDULE_RUNTIME.findall(open(path).read())
    cfg = Config.fromfile(path)
    schedule = Config.fromfile(osp.join(osp.dirname(path), bases[2]))
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler'):
        assert cfg[key] == schedule[key], key
    dataset = Config.fromfile(osp.join(osp.dirname(path), bases[1]))
    assert cfg.val_evaluator == dataset.val_evaluator  # one evaluator for all
    for split in ('train', 'val'):
        got = cfg[f'{split}_dataloader'].dataset
        want = dataset[f'{split}_dataloader'].dataset
        assert (got.data_root, got.ann_file, got.metainfo) == (
            want.data_root, want.ann_file, want.metainfo)


@pytest.mark.parametrize('path', [osp.join(CONFIG_DIR, n) for n in ROOTS[1:]],
                         ids=osp.basename)
def test_feather_cpu_twins_swap_two_types_only(path):
    dense = Config.fromfile(path)
    feather = Config.fromfile(path.replace('_r50_fpn_scratch',
                                           '_r50-dws_fpn_dws-mask_scratch'))
    dense.model.backbone.type = 'DepthwiseResNet'
    dense.model.roi_head.mask_head.type = 'DepthwiseFCNMaskHead'
    assert dense.model == feather.model
    assert dense.train_dataloader == feather.train_dataloader


def test_rtmdet_model_base_is_mmdets_rtmdet_ins_tiny():
    ours = Config.fromfile(osp.join(BASE_DIR, 'models', 'rtmdet-ins_tiny.py'))
    from mmengine.hub import get_config
    mmdets = get_config(
        'mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py').model
    mmdets.backbone.init_cfg = None  # ours downloads nothing
    strip = lambda d: {k: strip(v) for k, v in d.items() if k != '_scope_'} \
        if isinstance(d, dict) else d  # noqa: E731
    assert strip(ours.model.to_dict()) == strip(mmdets.to_dict())


def test_tiny_rice_recipe_has_the_tiny_model():
    """The tiny line's rice recipes restate the tiny model (a recipe has one
    parent); apart from what the rice recipe sets for every model (classes,
    anchors, proposal and RoI counts) the two models are the same."""
    name = ('mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_'
            'scratch-{}.py')
    rice = config(name.format('cpu-1xb2-300it_rice-leaf')).model
    coco = config(name.format('640-1x_coco')).model
    for model in (rice, coco):
        model.pop('train_cfg'), model.pop('test_cfg')
        model.rpn_head.anchor_generator.pop('scales')
        model.roi_head.bbox_head.pop('num_classes')
        model.roi_head.mask_head.pop('num_classes')
    assert rice == coco


def test_tiny_rice_test50_changes_only_test_proposals():
    """The small-input variant reuses the tiny rice checkpoints: training,
    data and weights are the tiny rice recipe's; only the test-time
    proposal and detection counts shrink."""
    name = ('mask-rcnn_r18-dws_fpn-dws-c128_{}_light-box_dws-mask-2x128_'
            'scratch-cpu-1xb2-300it_rice-leaf.py')
    base = config(name.format('rpn-dws'))
    fast = config(name.format('rpn-dws-test50'))
    rpn, rcnn = fast.model.test_cfg.rpn, fast.model.test_cfg.rcnn
    assert (rpn.max_per_img, rcnn.max_per_img) == (50, 50)
    assert rpn.max_per_img < base.model.test_cfg.rpn.max_per_img
    for cfg in (base, fast):
        cfg.model.pop('test_cfg')
    assert base.model == fast.model
    for key in ('train_dataloader', 'val_dataloader', 'train_cfg',
                'optim_wrapper', 'param_scheduler'):
        assert base[key] == fast[key], key
