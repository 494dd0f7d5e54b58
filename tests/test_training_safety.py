"""Non-finite losses stop training; a crash while saving keeps the previous
checkpoint loadable and the run resumable."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.registry import RUNNERS
from mmengine.runner.checkpoint import _load_checkpoint

from feather_mmdet.engine import StopOnInvalidLossHook
from helpers import tiny_cfg


def test_hook_names_iteration_and_terms():
    hook = StopOnInvalidLossHook()
    runner = SimpleNamespace(iter=7, epoch=0)
    outputs = dict(
        loss=torch.tensor(float('nan')),
        loss_cls=torch.tensor(float('inf')),
        loss_bbox=torch.tensor(0.5))
    with pytest.raises(FloatingPointError) as err:
        hook.after_train_iter(runner, 7, None, outputs)
    msg = str(err.value)
    assert 'iteration 8' in msg and "['loss', 'loss_cls']" in msg
    assert 'loss_bbox=0.5' in msg and 'lr' in msg
    hook.after_train_iter(runner, 7, None, dict(loss=torch.tensor(1.)))


def test_nan_loss_stops_a_real_run(tmp_path):
    cfg = tiny_cfg(tmp_path, max_iters=4)
    cfg.default_hooks.checkpoint.interval = 1
    runner = RUNNERS.build(cfg)
    model_loss, calls = runner.model.loss, []

    def loss_with_nan(*args, **kwargs):
        losses = model_loss(*args, **kwargs)
        calls.append(1)
        if len(calls) >= 2:
            losses['loss_mask'] = losses['loss_mask'] * float('nan')
        return losses

    runner.model.loss = loss_with_nan
    with pytest.raises(FloatingPointError, match='iteration 2.*loss_mask'):
        runner.train()
    assert len(calls) == 2, 'training went on after the NaN'
    ckpt = _load_checkpoint(str(tmp_path / 'iter_1.pth'))
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())


def test_crash_while_saving_keeps_previous_checkpoint(tmp_path, monkeypatch):
    cfg = tiny_cfg(tmp_path, max_iters=3)
    cfg.default_hooks.checkpoint.interval = 1
    put, saved = LocalBackend.put, []

    def crashing_put(self, obj, filepath):
        if str(filepath).endswith('.pth') and saved:
            with open(filepath, 'wb') as f:  # half a file, then the crash
                f.write(obj[:len(obj) // 2])
            raise OSError('No space left on device')
        saved.append(filepath)
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', crashing_put)
    with pytest.raises(OSError, match='No space left'):
        RUNNERS.build(cfg).train()
    monkeypatch.setattr(LocalBackend, 'put', put)

    # The previous checkpoint loads, and auto-resume picks it.
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')
    assert _load_checkpoint(str(tmp_path / 'iter_1.pth'))['meta']['iter'] == 1
    cfg = tiny_cfg(tmp_path, max_iters=3, resume=True)
    cfg.visualizer.name = 'visualizer-resumed'
    runner = RUNNERS.build(cfg)
    runner.train()
    assert runner.iter == 3
    assert _load_checkpoint(str(tmp_path / 'iter_3.pth'))['meta']['iter'] == 3
