"""The command-line tools: thin CLIs over the library."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from helpers import BASELINE, CONFIG_DIR, PAPER, REPO_ROOT, build, params

TOOLS = osp.join(REPO_ROOT, 'tools')


def _run(tool, *args):
    out = subprocess.run([sys.executable, osp.join(TOOLS, tool), *args],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_count_params_table():
    out = _run('count_params.py', osp.join(CONFIG_DIR, PAPER), '--reference',
               osp.join(CONFIG_DIR, BASELINE))
    row = next(line for line in out.splitlines() if PAPER in line)
    total = f'{params(build(PAPER)) / 1e6:.2f}M'
    ratio = params(build(PAPER)) / params(build(BASELINE))
    assert f'| {total} ({ratio:.2f}x) |' in row


@pytest.mark.slow
def test_benchmark_then_report(tmp_path):
    configs = [osp.join(CONFIG_DIR, BASELINE), osp.join(CONFIG_DIR, PAPER)]
    _run('benchmark.py', *configs, '--sizes', '64x96', '--runs', '1',
         '--warmup', '0', '--out-dir', str(tmp_path))
    data = json.loads((tmp_path / 'results.json').read_text())
    base, feather = (data['results'][osp.splitext(c)[0]]
                     for c in (BASELINE, PAPER))
    assert data['meta']['reference'] == osp.splitext(BASELINE)[0]
    assert feather['params']['backbone'] < base['params']['backbone']
    entry = feather['sizes']['64x96']
    assert entry['flops']['backbone'] < base['sizes']['64x96']['flops'][
        'backbone']
    for runtime in ('torch', 'torch-fast'):
        assert entry['latency'][runtime]['total'] > 0
        assert entry['latency'][runtime]['num_masks'] == 100  # fixed work
    assert not (tmp_path / 'results.md').exists()  # measuring only

    table = _run('benchmark_report.py', str(tmp_path / 'results.json'))
    assert osp.splitext(PAPER)[0] in table and '(1.00x)' in table
    assert (tmp_path / 'results.md').read_text() == table.split(
        '\nwritten:')[0]
    assert (tmp_path / 'benchmark.png').stat().st_size > 10000
