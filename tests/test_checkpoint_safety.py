import os

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from feather_mmdet.engine import (TRUSTED_ENV, UnsafeCheckpointError,
                                  load_from_local_safely)


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
    import subprocess
    import sys
    path = str(tmp_path / 'iter_3.pth')
    save_checkpoint(_runner_like_checkpoint(), path)
    code = ('import feather_mmdet, sys\n'
            'from mmengine.runner.checkpoint import _load_checkpoint\n'
            'ckpt = _load_checkpoint(sys.argv[1])\n'
            'print(sorted(ckpt["message_hub"]["log_scalars"]))\n')
    out = subprocess.run([sys.executable, '-c', code, path],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "'train/loss'" in out.stdout
