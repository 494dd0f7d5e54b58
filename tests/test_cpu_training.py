"""CPU training speed levers, the speed/profile library, the learning-curve
hook with its plateau rule, and resuming a curve."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from feather_mmdet.engine import CPUSpeedHook, TrainingCurveHook, plateaued
from feather_mmdet.analysis.train_speed import (build_runner,
                                             measure_train_speed,
                                             profile_train_iter)
from helpers import REPO_ROOT, TINY_CONFIG, tiny_cfg


def _first_losses(tmp_path, name, hook=None):
    """The loss terms of one training step of the tiny model (seeded)."""
    torch.manual_seed(0)
    cfg = tiny_cfg(tmp_path / name, max_iters=1, val_cfg=None,
                   val_dataloader=None, val_evaluator=None,
                   custom_hooks=[])
    runner = Runner.from_cfg(cfg)
    if hook is not None:
        hook.before_run(runner)
    model = runner.model.train()
    data = next(iter(runner.build_dataloader(cfg.train_dataloader)))
    torch.manual_seed(1)  # the same RoI sampling
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    return {k: float(sum(v) if isinstance(v, list) else v)
            for k, v in losses.items() if 'loss' in k}


def test_channels_last_training_computes_the_same_losses(tmp_path):
    """channels_last changes the layout only: every loss term, the RoI ones
    included (mmcv's RoIAlign reads NCHW memory whatever the strides, so a
    channels_last feature map would give other RoI features), is unchanged.
    """
    plain = _first_losses(tmp_path, 'plain')
    fast = _first_losses(tmp_path, 'fast', CPUSpeedHook(channels_last=True))
    assert set(plain) == set(fast)
    for key in plain:
        assert fast[key] == pytest.approx(plain[key], rel=1e-3,
                                          abs=1e-4), key


def test_plateau_rule():
    def curve(values, step=100):
        return [dict(iter=step * (i + 1), segm_mAP=v)
                for i, v in enumerate(values)]

    assert not plateaued(curve([0.1, 0.2]))  # too few points
    assert not plateaued(curve([0.0, 0.0, 0.0]))  # nothing learned yet
    # last third (iterations > 200 of 300) +50% over the best before
    assert not plateaued(curve([0.1, 0.2, 0.3]))
    assert plateaued(curve([0.1, 0.2, 0.205]))  # +2.5%
    assert plateaued(curve([0.1, 0.3, 0.25]))  # worse
    assert not plateaued(curve([0.1, 0.2, 0.205]), min_iters=400)
    # the first two thirds of 600 iterations end at 400
    assert not plateaued(curve([0.1, 0.1, 0.1, 0.1, 0.2, 0.2]))
    assert plateaued(curve([0.1, 0.1, 0.2, 0.2, 0.2, 0.201]))


def test_curve_hook_records_and_resumes(tmp_path):
    """A run that is resumed from its checkpoint continues its curve: the
    points up to the checkpoint are kept, training seconds keep adding up,
    and the json is complete after each evaluation."""
    out = tmp_path / 'curve.json'

    def run(max_iters, resume):
        cfg = tiny_cfg(tmp_path / 'work', max_iters=max_iters)
        cfg.train_cfg.val_interval = 2
        cfg.default_hooks.checkpoint.interval = 2
        cfg.resume = resume
        cfg.custom_hooks = [dict(type='TrainingCurveHook',
                                 out_file=str(out), meta=dict(run='t'))]
        build_runner(cfg).train()  # FeatherRunner, as mim train builds it
        return json.loads(out.read_text())

    first = run(2, resume=False)
    assert [p['iter'] for p in first['curve']] == [2]
    assert first['meta'] == dict(run='t')
    second = run(4, resume=True)
    points = second['curve']
    assert [p['iter'] for p in points] == [2, 4]
    assert points[0] == first['curve'][0]
    assert points[1]['train_seconds'] > points[0]['train_seconds'] > 0
    for p in points:
        assert 0.0 <= p['segm_mAP'] <= 1.0 and 0.0 <= p['bbox_mAP'] <= 1.0
    # s_per_iter: median of the 2 iterations since the previous point
    spent = [points[0]['train_seconds'],
             points[1]['train_seconds'] - points[0]['train_seconds']]
    for p, seconds in zip(points, spent):
        assert 2 * p['s_per_iter'] == pytest.approx(seconds, abs=0.15)


def test_curve_hook_stops_at_plateau(tmp_path, monkeypatch):
    """With a rule that is already met, training stops at that validation
    and the file says why."""
    out = tmp_path / 'curve.json'
    hook = TrainingCurveHook(out_file=str(out), stop_at_plateau=True)
    cfg = tiny_cfg(tmp_path / 'work', max_iters=8)
    cfg.train_cfg.val_interval = 2
    runner = Runner.from_cfg(cfg)
    runner.register_hook(hook)
    import feather_mmdet.engine.hooks.training_curve_hook as mod
    monkeypatch.setattr(mod, 'plateaued',
                        lambda curve, *a, **k: len(curve) >= 2)
    runner.train()
    record = json.loads(out.read_text())
    assert record['stopped'] == 'plateau'
    assert [p['iter'] for p in record['curve']] == [2, 4]
    assert runner.iter == 4


def test_train_speed_and_profile(tmp_path):
    cfg = tiny_cfg(tmp_path / 'unused', max_iters=1)
    speed = measure_train_speed(cfg, iters=2, warmup=1)
    assert len(speed['times']) == 2 and all(t > 0 for t in speed['times'])
    assert speed['median'] == pytest.approx(
        float(torch.tensor(speed['times']).median()))
    parts = profile_train_iter(cfg, iters=2, warmup=1)
    for key in ('data', 'backbone', 'neck', 'rpn_head',
                'roi_head.bbox_roi_extractor', 'roi_head.mask_head',
                'backward (heads)', 'backward (neck)',
                'backward (backbone)', 'optimizer'):
        assert parts[key] > 0, key
    total = parts.pop('total')
    assert sum(parts.values()) == pytest.approx(total, rel=1e-6)
    with pytest.raises(ValueError, match='iters'):
        measure_train_speed(cfg, iters=0)


def test_phased_backward_gives_the_same_gradients():
    """The profile's backward in phases (heads, neck, backbone) computes
    every parameter's gradient as one backward() does, a frozen part
    included."""
    from torch import nn

    from feather_mmdet.analysis.train_speed import (_output_recorders,
                                                    phased_backward)

    class Toy(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
            self.neck = nn.Conv2d(4, 4, 1)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            c = self.backbone(x)
            p = self.neck(c)
            return self.head(p.mean((2, 3))).sum() + c.mean()

    torch.manual_seed(0)
    model, x = Toy(), torch.rand(2, 3, 8, 8)
    model(x).backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    names = ['backbone', 'neck']
    with _output_recorders(model, names) as outputs:
        loss = model(x)
    times = phased_backward(loss, model, names, outputs)
    assert list(times) == ['backward (heads)', 'backward (neck)',
                           'backward (backbone)']
    for name, param in model.named_parameters():
        assert torch.allclose(param.grad, expected[name], atol=1e-6), name
    model.zero_grad(set_to_none=True)
    model.neck.requires_grad_(False)
    with _output_recorders(model, names) as outputs:
        loss = model(x)
    phased_backward(loss, model, names, outputs)
    assert model.neck.weight.grad is None
    assert torch.allclose(model.backbone[0].weight.grad,
                          expected['backbone.0.weight'], atol=1e-6)


def test_benchmark_training_tool_side_by_side(tmp_path):
    """The CLI: two entries, one with an override, a ratio table, json."""
    out = tmp_path / 'speed.json'
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools',
                                    'benchmark_training.py'),
           f'a={TINY_CONFIG}', f'b={TINY_CONFIG}', '--iters', '1',
           '--warmup', '0', '--repeats', '2', '--out', str(out),
           '--set', 'b', 'custom_hooks.3.channels_last=False']
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '| b |' in proc.stdout and 'ratio to a' in proc.stdout
    record = json.loads(out.read_text())
    assert record['entries']['b']['options'][
        'custom_hooks.3.channels_last'] is False
    assert [len(record['runs'][k]) for k in ('a', 'b')] == [2, 2]
    assert record['cpu']['cpus'] >= 1 and record['cpu']['model']
    bad = subprocess.run(cmd[:2] + ['a=missing.py'], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and 'does not exist' in bad.stderr


def test_cpu_info_reads_the_instruction_sets(monkeypatch, tmp_path):
    """cpu_info() keeps the model name and only the listed ISA flags."""
    import builtins

    from feather_mmdet.utils import cpu
    fake = tmp_path / 'cpuinfo'
    fake.write_text('processor\t: 0\nmodel name\t: Test CPU 9000\n'
                    'flags\t\t: fpu sse avx2 avx512f avx512_vnni\n')
    real_open = builtins.open
    monkeypatch.setattr(
        builtins, 'open', lambda path, *a, **k: real_open(
            fake if path == '/proc/cpuinfo' else path, *a, **k))
    monkeypatch.delenv('ONEDNN_MAX_CPU_ISA', raising=False)
    info = cpu.cpu_info()
    assert info['model'] == 'Test CPU 9000'
    assert info['isa'] == ['avx2', 'avx512f', 'avx512_vnni']
    assert info['cpus'] >= 1 and 'isa_cap' not in info
    # An emulated older CPU (oneDNN's dispatch cap) is recorded and reported.
    monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'AVX2')
    info = cpu.cpu_info()
    assert info['isa_cap'] == 'AVX2'
    from feather_mmdet.analysis.benchmark_report import describe_cpus
    assert describe_cpus({'a': dict(cpu=info)}).endswith(
        'avx512_vnni (oneDNN capped at AVX2)')


def test_set_max_iters_keeps_the_schedule_inside_the_run():
    """`tools/demo.py --max-iters 30` (and train_own_data): warm-up in the
    first fifth, cosine to the end, checkpoint and validation by the end."""
    from mmengine.config import Config

    from feather_mmdet.utils.config import set_max_iters
    cfg = Config.fromfile(TINY_CONFIG)
    set_max_iters(cfg, 30)
    warmup, cosine = cfg.param_scheduler
    assert warmup.end == 6 and cosine.end == cosine.T_max == 30
    assert cfg.train_cfg.max_iters == 30
    assert cfg.train_cfg.val_interval <= 30
    assert cfg.default_hooks.checkpoint.interval <= 30
    with pytest.raises(ValueError, match='at least 1'):
        set_max_iters(cfg, 0)
