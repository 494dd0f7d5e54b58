import os
import os.path as osp
import subprocess
import sys

import mmdet
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from feather_mmdet.engine import (TRUSTED_ENV, UnsafeCheckpointError,
                                  install_safe_checkpoint_loader,
                                  load_from_local_safely)
from helpers import REPO_ROOT, TINY_CONFIG

TOOLS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools')


@pytest.fixture(autouse=True)
def _safe_loader():
    # What this package's runner, tools and inference helpers do.
    install_safe_checkpoint_loader()


class _WritesMarker:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _runner_like_checkpoint():
    """What mmengine's runner saves: weights, optimizer, log history."""
    hub = MessageHub.get_instance('ckpt-test')
    for i in range(3):
        hub.update_scalar('train/loss', np.float64(1.5 - i * 0.1))
        hub.update_scalar('train/lr', 0.01)
    hub.update_info('iter', 3)
    model = torch.nn.Linear(4, 2)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.rand(1, 4)).sum().backward()
    optim.step()
    return dict(
        meta=dict(epoch=1, iter=3, seed=np.int64(7), dataset_meta=dict(
            classes=('date', 'fig'), palette=[(1, 2, 3)])),
        state_dict=model.state_dict(),
        optimizer=optim.state_dict(),
        message_hub=hub.state_dict())


def test_runner_checkpoint_round_trips(tmp_path):
    path = str(tmp_path / 'iter_3.pth')
    ckpt = _runner_like_checkpoint()
    save_checkpoint(ckpt, path)
    # Through mmengine's entry point: our loader is registered for local files.
    loaded = _load_checkpoint(path, map_location='cpu')
    assert torch.equal(loaded['state_dict']['weight'],
                       ckpt['state_dict']['weight'])
    hub = MessageHub.get_instance('ckpt-reloaded')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_scalar('train/loss').data[0].tolist() == pytest.approx(
        [1.5, 1.4, 1.3])
    assert loaded['meta']['seed'] == 7


def test_code_carrying_checkpoint_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUSTED_ENV, raising=False)
    marker = tmp_path / 'marker'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': _WritesMarker(marker)}, path)
    for load in (load_from_local_safely, _load_checkpoint):
        with pytest.raises(UnsafeCheckpointError) as err:
            load(path, map_location='cpu')
        msg = str(err.value)
        assert 'evil.pth' in msg and 'arbitrary code' in msg
        assert TRUSTED_ENV in msg
        assert 'os.system' in msg or 'posix.system' in msg
        assert not marker.exists()


def test_trusted_checkpoint_is_fully_unpickled(tmp_path, monkeypatch):
    marker = tmp_path / 'marker'
    path = tmp_path / 'trusted.pth'
    torch.save({'meta': _WritesMarker(marker)}, path)
    monkeypatch.setenv(TRUSTED_ENV, str(path))
    load_from_local_safely(str(path))
    # Proves the refusal above is what protected the user.
    assert marker.exists()


def test_missing_file_error_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


@pytest.mark.slow
def test_runner_checkpoint_loads_in_a_fresh_process(tmp_path):
    """No HistoryBuffer exists yet in a new process (as in --resume)."""
    path = str(tmp_path / 'iter_3.pth')
    save_checkpoint(_runner_like_checkpoint(), path)
    code = ('import feather_mmdet, sys\n'
            'feather_mmdet.install_safe_checkpoint_loader()\n'
            'from mmengine.runner.checkpoint import _load_checkpoint\n'
            'ckpt = _load_checkpoint(sys.argv[1])\n'
            'print(sorted(ckpt["message_hub"]["log_scalars"]))\n')
    out = subprocess.run([sys.executable, '-c', code, path],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "'train/loss'" in out.stdout


def test_import_changes_no_global_loader():
    """``import feather_mmdet`` (any project's custom_imports) registers
    modules only: mmengine's own local-file loader stays in place."""
    code = ('from mmengine.runner.checkpoint import CheckpointLoader as C\n'
            'before = C._schemes[""]\n'
            'import feather_mmdet\n'
            'assert C._schemes[""] is before, C._schemes[""]\n'
            'feather_mmdet.install_safe_checkpoint_loader()\n'
            'assert C._schemes[""] is feather_mmdet.load_from_local_safely\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def _evil(tmp_path):
    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _WritesMarker(marker)}, path)
    return path, marker


def _refused(proc, marker):
    assert proc.returncode != 0
    assert 'Refused to load checkpoint' in proc.stderr + proc.stdout
    assert not marker.exists()


@pytest.mark.slow
def test_refused_through_mim_train_resume(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUSTED_ENV, raising=False)
    path, marker = _evil(tmp_path)
    work = tmp_path / 'work'
    work.mkdir()
    os.replace(path, work / 'iter_1.pth')
    (work / 'last_checkpoint').write_text(str(work / 'iter_1.pth'))
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'train.py'), TINY_CONFIG,
         '--work-dir', str(work), '--resume'], capture_output=True,
        text=True, cwd=REPO_ROOT)
    _refused(proc, marker)


@pytest.mark.slow
def test_refused_through_mim_test_checkpoint(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUSTED_ENV, raising=False)
    path, marker = _evil(tmp_path)
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'test.py'), TINY_CONFIG, str(path),
         '--work-dir', str(tmp_path / 'work')], capture_output=True,
        text=True, cwd=REPO_ROOT)
    _refused(proc, marker)


def test_refused_through_the_inferencer(tmp_path, monkeypatch):
    from feather_mmdet.apis import run_inference
    monkeypatch.delenv(TRUSTED_ENV, raising=False)
    path, marker = _evil(tmp_path)
    with pytest.raises(UnsafeCheckpointError):
        run_inference(TINY_CONFIG, str(path),
                      osp.join(REPO_ROOT, 'data', 'fruits_nuts', 'images',
                               '15.jpg'), str(tmp_path / 'out'))
    assert not marker.exists()
