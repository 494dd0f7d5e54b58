"""Each bad input gets a clear error naming the file/key and the fix, before
training starts, and nothing already written is lost."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import mmdet
import pytest
import torch
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from feather_mmdet.engine import CheckpointMismatchError
from feather_mmdet.utils import PreflightError, preflight
from helpers import (BASELINE, FRUITS, PAPER, REPO_ROOT, TINY_CONFIG, build,
                     config, point_to, tiny_cfg)

PREFLIGHT = osp.join(REPO_ROOT, 'tools', 'preflight.py')
TRAIN_PY = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')


@pytest.fixture
def data(tmp_path):
    """A writable copy of the shipped dataset."""
    root = tmp_path / 'fruits'
    shutil.copytree(FRUITS, root)
    return root


def _edit_json(path, fn):
    with open(path) as f:
        coco = json.load(f)
    fn(coco)
    with open(path, 'w') as f:
        json.dump(coco, f)


def _errors(cfg, **kw):
    return [str(p) for p in preflight(cfg, **kw) if p.level == 'error']


def _warnings(cfg, **kw):
    return [str(p) for p in preflight(cfg, **kw) if p.level == 'warning']


def test_clean_data_has_no_problems(tmp_path):
    assert preflight(tiny_cfg(tmp_path), decode_images=True) == []


def test_missing_data_root(tmp_path):
    cfg = point_to(tiny_cfg(tmp_path), str(tmp_path / 'nowhere'))
    errors = _errors(cfg)
    assert any('data_root' in e and 'nowhere' in e and '--cfg-options' in e
               for e in errors)


def test_missing_annotation_file_and_image_dir(tmp_path, data):
    cfg = point_to(tiny_cfg(tmp_path), str(data))
    os.remove(data / 'annotations' / 'train.json')
    shutil.rmtree(data / 'images')
    errors = _errors(cfg, splits=('train', ))
    assert any('ann_file' in e and 'train.json' in e for e in errors)
    assert any('data_prefix.img' in e and 'images' in e for e in errors)


def test_json_that_is_not_coco(tmp_path, data):
    cfg = point_to(tiny_cfg(tmp_path), str(data))
    _edit_json(data / 'annotations' / 'train.json',
               lambda c: c.pop('annotations'))
    (data / 'annotations' / 'val.json').write_text('{"images": [')
    errors = _errors(cfg)
    assert any("missing list(s) ['annotations']" in e for e in errors)
    assert any('val.json' in e and 'not valid JSON' in e for e in errors)


def test_missing_and_corrupt_images(tmp_path, data):
    cfg = point_to(tiny_cfg(tmp_path), str(data))
    os.remove(data / 'images' / '0.jpg')
    (data / 'images' / '1.jpg').write_bytes(b'not a jpeg')
    errors = _errors(cfg, splits=('train', ), decode_images=True)
    assert any('not in' in e and "'0.jpg'" in e for e in errors)
    assert any('cannot be decoded' in e and "'1.jpg'" in e for e in errors)


def test_degenerate_annotations_are_counted(tmp_path, data):
    cfg = point_to(tiny_cfg(tmp_path), str(data))

    def damage(coco):
        anns = coco['annotations']
        anns[0]['segmentation'] = [[]]                     # empty polygon
        anns[1]['segmentation'] = [[1, 1, 5, 5]]           # 2 points
        anns[2]['bbox'] = [10, 10, 0, 5]                   # zero area
        anns[3]['segmentation'] = [[0, 0, 900, 0, 900, 700]]  # outside
        anns[4]['segmentation'].append([1, 1, 5, 5])       # + 1 bad polygon
    _edit_json(data / 'annotations' / 'train.json', damage)
    warnings = ' '.join(_warnings(cfg, splits=('train', )))
    # mmdet ignores an instance only if none of its polygons is valid
    assert '2 instances without one valid polygon' in warnings
    assert '1 instances with some invalid polygons' in warnings
    assert '1 zero-area' in warnings
    assert '1 polygons outside the image' in warnings
    assert not _errors(cfg, splits=('train', ))


def test_unknown_category_and_image_ids_fail(tmp_path, data):
    cfg = point_to(tiny_cfg(tmp_path), str(data))

    def damage(coco):
        coco['annotations'][0]['category_id'] = 42
        coco['annotations'][1]['image_id'] = 999
    _edit_json(data / 'annotations' / 'train.json', damage)
    errors = ' '.join(_errors(cfg, splits=('train', )))
    assert 'category ids not in "categories": [42]' in errors
    assert 'image ids not in "images"' in errors


def test_wrong_num_classes(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.model.roi_head.bbox_head.num_classes = 80
    errors = _errors(cfg, splits=('train', ))
    assert any('model.roi_head.bbox_head.num_classes' in e
               and 'num_classes=80' in e and 'has 3 classes' in e
               for e in errors)


def test_large_json_gets_path_checks_only(tmp_path, monkeypatch):
    """The runner does not parse a large annotation file for its checks
    (mmdet parses it anyway); it says so, and tools/preflight.py still
    checks everything."""
    cfg = tiny_cfg(tmp_path)
    cfg.model.roi_head.bbox_head.num_classes = 80
    problems = preflight(cfg, splits=('train', ), check_model_build=False,
                         max_json_mb=1e-4)
    assert [p.level for p in problems] == ['warning']
    assert 'only its paths were checked' in problems[0].message
    assert 'tools/preflight.py' in problems[0].message
    assert _errors(cfg, splits=('train', ))  # no limit: the full check
    # and the runner applies the limit
    import feather_mmdet.engine.runner as runner_module
    monkeypatch.setattr(runner_module, 'RUNNER_MAX_JSON_MB', 1e-4)
    cfg.model.roi_head.bbox_head.num_classes = 3
    cfg.train_dataloader.dataset.metainfo = dict(classes=('walnut', ))
    runner = RUNNERS.build(cfg)
    runner._preflight(('train', ))  # the walnut error is not looked for
    monkeypatch.setattr(runner_module, 'RUNNER_MAX_JSON_MB', 64)
    runner._checked_splits.clear()
    with pytest.raises(PreflightError, match='walnut'):
        runner._preflight(('train', ))


def test_classes_not_in_json(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.train_dataloader.dataset.metainfo = dict(
        classes=('date', 'fig', 'walnut'))
    errors = _errors(cfg, splits=('train', ))
    assert any("['walnut']" in e and 'metainfo' in e for e in errors)


def test_unknown_type_suggests_closest(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.model.backbone.type = 'DepthwiseResNett'
    errors = _errors(cfg, splits=())
    assert any('model.backbone.type' in e and "'DepthwiseResNet'" in e
               for e in errors)


def test_unknown_key_in_feather_module_suggests_closest(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.model.backbone.stage_with_depthwize = (True, ) * 4
    errors = _errors(cfg, splits=())
    assert any('model.backbone.stage_with_depthwize' in e
               and "'stage_with_depthwise'" in e for e in errors)


@pytest.mark.slow
def test_preflight_tool_prints_all_problems(tmp_path, data):
    os.remove(data / 'images' / '0.jpg')
    out = subprocess.run([
        sys.executable, PREFLIGHT,
        TINY_CONFIG,
        '--cfg-options', f'train_dataloader.dataset.data_root={data}/',
        'model.backbone.type=DepthwiseResNett'
    ], capture_output=True, text=True)
    assert out.returncode == 1
    assert "did you mean 'DepthwiseResNet'" in out.stdout
    assert "'0.jpg'" in out.stdout
    assert 'preflight: 2 error(s)' in out.stdout


def test_runner_refuses_a_misspelt_model_before_writing(tmp_path):
    cfg = tiny_cfg(tmp_path / 'work')
    cfg.model.backbone.type = 'DepthwiseResNett'
    with pytest.raises(PreflightError, match="did you mean 'DepthwiseResNet'"):
        RUNNERS.build(cfg)  # as mmdet's tools/train.py builds it
    assert not (tmp_path / 'work').exists(), 'nothing may be written'


@pytest.mark.slow
def test_mim_train_typo_prints_did_you_mean(tmp_path):
    """mmdet's own tools/train.py (what `mim train mmdet` runs)."""
    work_dir = tmp_path / 'work'
    out = subprocess.run([
        sys.executable, TRAIN_PY, TINY_CONFIG, '--work-dir', str(work_dir),
        '--cfg-options', 'model.backbone.stage_with_depthwize=[True,True]'
    ], capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode != 0
    assert ("DepthwiseResNet got an unknown key 'stage_with_depthwize'; did "
            "you mean 'stage_with_depthwise'") in out.stderr
    assert 'model.backbone.stage_with_depthwize' in out.stderr
    assert not work_dir.exists(), 'nothing may be written'


def test_runner_stops_before_training_and_keeps_outputs(tmp_path, data):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    earlier = work_dir / 'iter_100.pth'
    earlier.write_bytes(b'an earlier checkpoint')
    os.remove(data / 'images' / '0.jpg')
    (data / 'images' / '1.jpg').write_bytes(b'corrupt')  # small split: decoded
    cfg = point_to(tiny_cfg(work_dir), str(data))
    runner = RUNNERS.build(cfg)  # as mmdet's tools/train.py builds it
    with pytest.raises(PreflightError, match="'0.jpg'") as err:
        runner.train()
    assert "cannot be decoded" in str(err.value) and "'1.jpg'" in str(err.value)
    assert earlier.read_bytes() == b'an earlier checkpoint'
    assert [p.name for p in work_dir.glob('*.pth')] == ['iter_100.pth']


def _feather_and_baseline_ckpt(tmp_path):
    path = tmp_path / 'baseline.pth'
    torch.save({'state_dict': build(BASELINE).state_dict()}, path)
    cfg = config(PAPER)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = str(path)
    cfg.visualizer.name = f'vis-{tmp_path}'
    return cfg


def test_checkpoint_of_other_architecture_is_refused(tmp_path):
    cfg = _feather_and_baseline_ckpt(tmp_path)
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as err:
        runner.load_or_resume()
    msg = str(err.value)
    assert 'missing key(s)' in msg and 'unexpected key(s)' in msg
    assert 'backbone.layer1.0.conv2.depthwise_conv' in msg
    assert 'allow_partial_load=True' in msg
    after = runner.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_partial_load_is_an_explicit_option(tmp_path):
    cfg = _feather_and_baseline_ckpt(tmp_path)
    cfg.allow_partial_load = True
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    # Layers with the same name and shape came from the baseline.
    assert torch.equal(
        runner.model.neck.fpn_convs[0].conv.weight,
        torch.load(cfg.load_from)['state_dict']['neck.fpn_convs.0.conv.weight'])


@pytest.mark.parametrize('key, value, expected', [
    ('optim_wrapper.optimizer.weight_decy', 0.1, "'weight_decay'"),
    ('optim_wrapper.clip_gard', None, "'clip_grad'"),
    ('default_hooks.checkpoint.intervall', 5, "'interval'"),
    ('custom_hooks.0.bogus', 1, 'StopOnInvalidLossHook has no such'),
])
def test_misspelt_optimizer_and_hook_keys_before_writing(tmp_path, key,
                                                         value, expected):
    """mmengine would build the optimizer only after the datasets, and pass
    a checkpoint hook's unknown key on to the first save, after training."""
    cfg = tiny_cfg(tmp_path / 'work')
    cfg.merge_from_dict({key: value})
    with pytest.raises(PreflightError, match=expected):
        RUNNERS.build(cfg)
    assert not (tmp_path / 'work').exists(), 'nothing may be written'


def test_resume_onto_a_truncated_checkpoint_names_the_previous(tmp_path):
    work = tmp_path / 'work'
    cfg = tiny_cfg(work, max_iters=2, val_cfg=None, val_dataloader=None,
                   val_evaluator=None)
    cfg.default_hooks.checkpoint.interval = 1
    RUNNERS.build(cfg).train()
    last = work / 'iter_2.pth'
    last.write_bytes(last.read_bytes()[:1000])  # a crash mid-save
    cfg = tiny_cfg(work, max_iters=3, val_cfg=None, val_dataloader=None,
                   val_evaluator=None, resume=True)
    with pytest.raises(RuntimeError, match='previous one: --resume .*'
                       'iter_1.pth'):
        RUNNERS.build(cfg).train()
    assert (work / 'iter_1.pth').stat().st_size > 10000  # left as it was


@pytest.mark.parametrize('args, message', [
    (['--fractions', '0'], 'must be in (0, 1]'),
    (['--fractions', '1.5'], 'must be in (0, 1]'),
    (['--iters', '0'], 'at least 1 iteration'),
])
def test_study_refuses_impossible_sizes(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools',
                                  'study_data_efficiency.py'), *args,
         '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / 'out').exists()


def test_json_categories_left_out_of_classes_are_a_warning(tmp_path):
    """Training two of three classes is allowed, but not silently."""
    cfg = tiny_cfg(tmp_path)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.metainfo = dict(
            classes=('date', 'fig'))
    cfg.model.roi_head.bbox_head.num_classes = 2
    cfg.model.roi_head.mask_head.num_classes = 2
    warnings = ' '.join(_warnings(cfg, splits=('train', )))
    assert "json categories ['hazelnut'] are not in the classes" in warnings
    assert not _errors(cfg, splits=('train', ))
