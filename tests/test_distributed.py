"""Distributed training on CPU: 2 processes under torchrun, gloo backend."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from helpers import REPO_ROOT

WORKER = osp.join(REPO_ROOT, 'tests', 'data', 'dist_worker.py')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_cpu_ddp(tmp_path):
    work_dir = tmp_path / 'ddp'
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        '--master_addr=127.0.0.1', f'--master_port={_free_port()}', WORKER,
        str(work_dir), osp.join(REPO_ROOT, 'tests')
    ], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    ranks = [torch.load(work_dir / f'params_rank{r}.pt') for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys() and len(ranks[0]) > 50
    for name, value in ranks[0].items():
        assert torch.equal(value, ranks[1][name]), name
    # Three optimizer steps were taken, and the checkpoint holds the
    # parameters the ranks agree on.
    ckpt = torch.load(work_dir / 'iter_3.pth', weights_only=False)
    assert ckpt['meta']['iter'] == 3
    steps = {float(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert steps == {3.0}
    for name, value in ranks[0].items():
        assert torch.equal(ckpt['state_dict'][name], value), name
    # One checkpoint, written once (by rank 0), one log folder.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_3.pth']
    assert (work_dir / 'last_checkpoint').read_text().endswith('iter_3.pth')
    logs = list(work_dir.glob('*/*.log'))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert 'world_size: 2' in text or 'Distributed launcher: pytorch' in text
