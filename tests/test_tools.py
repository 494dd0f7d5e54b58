"""The command-line tools: thin CLIs over the library."""
import json
import math
import os.path as osp
import subprocess
import sys

import pytest

from helpers import (BASELINE, CONFIG_DIR, PAPER, REPO_ROOT, TINY_CONFIG, build,
                     params)

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
         '--warmup', '0', '--out-dir', str(tmp_path), '--repeat', '2',
         '--profile')
    data = json.loads((tmp_path / 'results.json').read_text())
    base, feather = (data['results'][osp.splitext(c)[0]]
                     for c in (BASELINE, PAPER))
    assert data['meta']['reference'] == osp.splitext(BASELINE)[0]
    assert feather['params']['backbone'] < base['params']['backbone']
    entry = feather['sizes']['64x96']
    assert entry['flops']['backbone'] < base['sizes']['64x96']['flops'][
        'backbone']
    for runtime in ('torch', 'torch-fast', 'onnxruntime', 'onnxruntime-int8',
                    'openvino', 'torch-fast-malloc'):
        assert entry['latency'][runtime]['total'] > 0, runtime
        # Fixed work whatever the random weights predict: 100 masks.
        assert entry['latency'][runtime]['num_masks'] == 100, runtime
    assert 'Conv' in entry['onnxruntime_profile_ms']
    assert len(data['repeats']) == 2
    assert not (tmp_path / 'results.md').exists()  # measuring only

    table = _run('benchmark_report.py', str(tmp_path / 'results.json'))
    assert osp.splitext(PAPER)[0] in table and '(1.00x)' in table
    assert 'median (min-max) over 2 repetitions' in table
    assert 'onnxruntime time per operator type' in table
    assert (tmp_path / 'results.md').read_text() == table.split(
        '\nwritten:')[0]
    assert (tmp_path / 'benchmark.png').stat().st_size > 10000


def test_benchmark_int8_variants_side_by_side(tmp_path):
    """The int8 variants timed next to the fp32 file, with the convs that
    run in int8 and the file size; the report's int8 table."""
    _run('benchmark.py', TINY_CONFIG, '--sizes', '64x96', '--runs', '1',
         '--warmup', '0', '--out-dir', str(tmp_path), '--runtimes',
         'onnxruntime', 'openvino', 'onnxruntime-int8-qop', 'openvino-int8')
    data = json.loads((tmp_path / 'results.json').read_text())
    (res, ) = data['results'].values()
    entry = res['sizes']['64x96']
    for runtime in ('onnxruntime', 'onnxruntime-int8-qop', 'openvino-int8'):
        assert entry['latency'][runtime]['num_masks'] > 0, runtime
    assert entry['convs']['onnxruntime']['int8'] == 0
    assert entry['convs']['onnxruntime-int8-qop']['int8'] > 0
    # OpenVINO's compiled graph: every conv (depthwise ones too) in int8
    ov_convs = entry['convs']['openvino-int8']
    assert ov_convs['float'] == 0 and ov_convs['int8'] == sum(
        entry['convs']['onnxruntime'].values())
    for runtime in ('onnxruntime-int8-qop', 'openvino-int8'):
        assert entry['file_mb'][runtime] < 0.5 * entry['file_mb'][
            'onnxruntime'], runtime
    table = _run('benchmark_report.py', str(tmp_path / 'results.json'))
    assert 'int8 variants against the fp32 file' in table
    # int8 speed depends on the CPU's instruction sets: the report names them
    isa = ' '.join(res['cpu']['isa']) or '-'
    assert table.startswith(f'CPU: {res["cpu"]["model"]}, ') and isa in \
        table.splitlines()[0]
    assert '| onnxruntime-int8-qop |' in table and '| openvino-int8 |' in table
    (ov_row, ) = [r for r in table.splitlines() if '| openvino-int8 |' in r]
    assert f"| {ov_convs['int8']}/{ov_convs['int8']} |" in ov_row


@pytest.mark.slow
def test_study_quick_mode_and_resume(tmp_path):
    """2 iterations of every model on both datasets, then a rerun that
    finds every run done."""
    args = ['--quick', '--out-dir', str(tmp_path / 'out'), '--work-dir',
            str(tmp_path / 'work')]
    _run('study_data_efficiency.py', *args)
    data = json.loads((tmp_path / 'out' / 'results.json').read_text())
    runs = data['runs']
    assert '--quick' in data['meta']['last_command']
    assert len(runs) == 6  # 3 models x (rice seed 0 + fruits fold 0)
    assert {r['model'] for r in runs} == {'feather', 'baseline',
                                          'rtmdet-ins-tiny'}
    for r in runs:
        assert r['iterations'] == 2 and r['train_seconds'] > 0
        # nan: COCO AP of a model that detects nothing after 2 iterations.
        assert math.isnan(r['segm_mAP']) or 0 <= r['segm_mAP'] <= 1
        assert osp.isfile(r['checkpoint'])
    rice = [r for r in runs if r['dataset'] == 'rice']
    assert {r['train_images'] for r in rice} == {24}  # 25% of 97
    fruits = [r for r in runs if r['dataset'] == 'fruits']
    assert {r['train_images'] for r in fruits} == {3}  # 25% of 12 (3 folds)
    assert (tmp_path / 'out' / 'data_efficiency.png').stat().st_size > 5000
    assert 'segm mAP' in (tmp_path / 'out' / 'results.md').read_text()
    again = _run('study_data_efficiency.py', *args)
    assert '6 of 6 runs already in' in again


def test_study_subsets_are_nested_and_folds_cover_once():
    from feather_mmdet.analysis.study import kfold, nested_subsets
    ids = list(range(100, 197))
    for seed in (0, 1):
        subsets = nested_subsets(ids, [0.25, 0.5, 1.0], seed)
        assert [len(subsets[f]) for f in (0.25, 0.5, 1.0)] == [24, 48, 97]
        assert set(subsets[0.25]) < set(subsets[0.5]) < set(subsets[1.0])
    assert nested_subsets(ids, [0.25], 0) != nested_subsets(ids, [0.25], 1)
    folds = kfold(list(range(18)), 3)
    vals = [i for fold in folds for i in fold['val']]
    assert sorted(vals) == list(range(18))
    for fold in folds:
        assert not set(fold['train']) & set(fold['val'])
        assert len(fold['train']) == 12


def test_study_paired_differences_match_by_subset_and_seed():
    from feather_mmdet.analysis.study import differences_markdown, \
        paired_differences

    def run(model, seed, segm, fraction=0.25, split='fixed', iters=200):
        return dict(dataset='rice', split=split, fraction=fraction,
                    seed=seed, model=model, segm_mAP=segm, iterations=iters)

    runs = [run('feather', 0, 0.30), run('baseline', 0, 0.20),
            run('feather', 1, 0.15), run('baseline', 1, 0.20),
            run('feather', 2, 0.50),  # no baseline partner: left out
            run('baseline', 2, 0.10, iters=50),  # another budget: no partner
            run('baseline', 0, 0.90, fraction=1.0)]  # no feather partner
    diffs = paired_differences(runs)
    assert len(diffs) == 1
    d = diffs[0]
    assert d['n'] == 2 and d['wins'] == 1
    assert abs(d['mean'] - 0.025) < 1e-9  # of +0.10 and -0.05
    assert abs(d['std'] - (2 * 0.075 ** 2) ** 0.5) < 1e-9  # sample std
    assert '| 25% | 200 | 2 | +0.025 ± 0.106 | 1 of 2 |' in \
        differences_markdown(diffs)


def test_study_runs_differ_by_schedule():
    """A longer schedule is a new run (not skipped as done) and its own row
    of the summary, never averaged with the shorter one."""
    from feather_mmdet.analysis.study import Run, summarize
    runs = [Run('feather', 'rice', 'fixed', 1.0, 97, 0, iters, 'c.py',
                segm_mAP=segm, bbox_mAP=0.0, train_seconds=1.0)
            for iters, segm in ((200, 0.04), (300, 0.06))]
    assert runs[0].key != runs[1].key
    rows = summarize([vars(r) for r in runs])
    assert [(r['iterations'], r['segm_mAP']) for r in rows] == [
        (200, 0.04), (300, 0.06)]


def test_pareto_front_and_chart(tmp_path):
    """A config is on the front unless another is at least as fast and at
    least as accurate; the chart takes each config's fastest runtime."""
    from feather_mmdet.analysis.benchmark_report import fastest, pareto_front
    points = {'a': (0.1, 0.10), 'b': (0.2, 0.30), 'c': (0.3, 0.20),
              'd': (0.2, 0.25), 'e': (0.5, 0.40)}
    assert pareto_front(points) == ['a', 'b', 'e']
    lat = lambda t: {'total': t}  # noqa: E731
    results = {
        'x': {'sizes': {'640x640': {'latency': {'onnxruntime': lat(0.3),
                                                'openvino': lat(0.2)}}}},
        'y': {'sizes': {'640x640': {'latency': {'onnxruntime': lat(0.1)}}}},
        'z': {'sizes': {'640x640': {'latency': {'onnxruntime': lat(0.4)}}}},
    }
    assert fastest(results['x'], '640x640') == ('openvino', 0.2)
    data = dict(meta=dict(reference='x', sizes=['640x640']), results={
        n: dict(r, params={'model': 1e6}, proposals=None, rss_mb={})
        for n, r in results.items()})
    for r in data['results'].values():
        r['sizes']['640x640']['flops'] = {'model': 1e9}
    (tmp_path / 'results.json').write_text(json.dumps(data))
    (tmp_path / 'ap.json').write_text(json.dumps({'x': 0.3, 'y': 0.1}))
    table = _run('benchmark_report.py', str(tmp_path / 'results.json'),
                 '--ap', str(tmp_path / 'ap.json'))
    # z has no AP: left out; x (0.2 s, 0.3) and y (0.1 s, 0.1) both on it
    assert 'Pareto front (latency vs AP): y, x' in table
    assert (tmp_path / 'pareto.png').stat().st_size > 5000


def test_pareto_chart_uses_ratios_within_each_run(tmp_path):
    """tools/pareto_chart.py: each config's fastest runtime over the
    reference's fastest in the same repetition (median over repetitions),
    from the first file that has it; a config no file measured is an
    error that names it."""
    lat = lambda t: {'total': t}  # noqa: E731

    def res(**runtimes):
        return {'sizes': {'640x640': {'latency': {
            rt: lat(t) for rt, t in runtimes.items()}}}}

    # run 1: the machine is slow in its second repetition (all x2)
    one = {'repeats': [
        {'ref': res(onnxruntime=0.2, openvino=0.4), 'a': res(openvino=0.1)},
        {'ref': res(onnxruntime=0.4, openvino=0.8), 'a': res(openvino=0.2)},
        {'ref': res(onnxruntime=0.2), 'a': res(onnxruntime=0.3,
                                               openvino=0.15)}]}
    two = {'results': {'ref': res(onnxruntime=1.0),
                       'b': res(onnxruntime=3.0, openvino=2.0),
                       'a': res(onnxruntime=9.0)}}
    for name, data in (('one', one), ('two', two)):
        (tmp_path / f'{name}.json').write_text(json.dumps(data))
    (tmp_path / 'ap.json').write_text(json.dumps(
        {'a': 0.1, 'b': 0.3, 'ref': 0.2}))
    args = ['--benchmarks', str(tmp_path / 'one.json'),
            str(tmp_path / 'two.json'), '--reference', 'ref', '--size',
            '640x640', '--ap', str(tmp_path / 'ap.json'), '--out',
            str(tmp_path / 'chart')]
    table = _run('pareto_chart.py', *args)
    assert '| a | openvino | 0.50x (0.50-0.75, n=3) | 0.100 | yes |' in table
    assert '| b | openvino | 2.00x (2.00-2.00, n=1) | 0.300 | yes |' in table
    assert '| ref | onnxruntime | 1.00x' in table
    assert 'Pareto front: a, ref, b' in table
    assert (tmp_path / 'chart.png').stat().st_size > 5000
    (tmp_path / 'ap.json').write_text(json.dumps({'c': 0.1}))
    proc = subprocess.run([sys.executable, 'tools/pareto_chart.py', *args],
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode != 0 and "measured 'c'" in proc.stderr
    (tmp_path / 'ap.json').write_text(json.dumps({'c': 0.1, 'a': 0.1}))
    table = _run('pareto_chart.py', *args, '--allow-missing')
    assert 'Pareto front: a' in table and 'left out: c' in table


def test_pareto_chart_adds_int8_points_with_measured_ap_change(tmp_path):
    """--int8-runtime / --int8-ap-change: the int8 file is its own point,
    timed in the int8 runtime against the reference's fp32 runtimes (not the
    reference's own int8), its mAP the fp32 one plus the measured change."""
    lat = lambda t: {'total': t}  # noqa: E731

    def res(**runtimes):
        return {'sizes': {'640x640': {'latency': {
            rt.replace('_', '-'): lat(t) for rt, t in runtimes.items()}}}}

    run = {'results': {
        'ref': res(onnxruntime=0.2, openvino_int8=0.05),
        'a': res(onnxruntime=0.3, openvino=0.24, openvino_int8=0.1)}}
    run['results']['a']['cpu'] = dict(model='M', cpus=2, isa=['avx2'])
    (tmp_path / 'run.json').write_text(json.dumps(run))
    (tmp_path / 'ap.json').write_text(json.dumps({'a': 0.25, 'ref': 0.2}))
    (tmp_path / 'fp32.json').write_text(json.dumps({'segm_mAP': 0.21}))
    (tmp_path / 'int8.json').write_text(json.dumps({'segm_mAP': 0.2}))
    args = ['--benchmarks', str(tmp_path / 'run.json'), '--reference', 'ref',
            '--size', '640x640', '--ap', str(tmp_path / 'ap.json'), '--out',
            str(tmp_path / 'chart')]
    change = f'a={tmp_path / "fp32.json"},{tmp_path / "int8.json"}'
    table = _run('pareto_chart.py', *args, '--int8-runtime', 'openvino-int8',
                 '--int8-ap-change', change)
    assert '| a | openvino | 1.20x (1.20-1.20, n=1) | 0.250 | yes |' in table
    assert '| a int8 | openvino-int8 | 0.50x (0.50-0.50, n=1) | 0.240 | yes' \
        in table
    assert 'Pareto front: a int8, a' in table and 'a -0.010' in table
    assert 'M, 2 CPUs, avx2' in table  # the CPU the run measured on
    (tmp_path / 'int8.json').write_text(json.dumps({'bbox_mAP': 0.2}))
    proc = subprocess.run(
        [sys.executable, 'tools/pareto_chart.py', *args, '--int8-runtime',
         'openvino-int8', '--int8-ap-change', change],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode != 0 and 'has no segm_mAP' in proc.stderr


def test_curves_report_budgets_carry_a_plateau(tmp_path):
    """At a CPU budget past a curve's end: its plateau value if the run
    stopped at its plateau, else 'not reached' (and left out of the json)."""
    pts = lambda *segm: [dict(iter=100 * (i + 1), segm_mAP=v,  # noqa: E731
                              bbox_mAP=v, train_seconds=1.0)
                         for i, v in enumerate(segm)]
    (tmp_path / 'fast.json').write_text(json.dumps(
        dict(meta={}, curve=pts(0.1, 0.2, 0.21), stopped='plateau')))
    (tmp_path / 'slow.json').write_text(json.dumps(
        dict(meta={}, curve=pts(0.05, 0.3), stopped=None)))
    table = _run('curves_report.py', str(tmp_path / 'fast.json'),
                 str(tmp_path / 'slow.json'), '--out', str(tmp_path / 'r'),
                 '--s-per-iter-value', 'fast=18', 'slow=36',
                 '--budgets', '1', '2', '3')
    # 1 h = 200 iterations of fast, 100 of slow
    assert '| 1 | 0.200 (200) | 0.050 (100) | fast |' in table
    assert '| 2 | 0.210 (plateau at 300) | 0.300 (200) | slow |' in table
    assert '| 3 | 0.210 (plateau at 300) | not reached | fast (of those ' \
        'reached) |' in table
    budgets = json.loads((tmp_path / 'r_budgets.json').read_text())
    assert budgets['3'] == {'fast': 0.21}


def test_curves_report_marks_a_plateau_by_the_rule(tmp_path):
    """A run that never stops (--no-stop) is still marked plateaued when
    its curve meets the rule; a rising one and a stopped one are told
    apart."""
    pts = lambda *segm: [dict(iter=100 * (i + 1), segm_mAP=v,  # noqa: E731
                              bbox_mAP=v, train_seconds=1.0)
                         for i, v in enumerate(segm)]
    runs = dict(flat=(pts(0.1, 0.3, 0.3, 0.31), None),
                rising=(pts(0.1, 0.2, 0.3, 0.4), None),
                stopped=(pts(0.1, 0.3, 0.3), 'plateau'))
    for name, (curve, stopped) in runs.items():
        (tmp_path / f'{name}.json').write_text(json.dumps(
            dict(meta={}, curve=curve, stopped=stopped)))
    table = _run('curves_report.py', *map(str, sorted(tmp_path.glob(
        '*.json'))), '--out', str(tmp_path / 'r'))
    # flat: best of the first two thirds 0.3, then 0.31 (+3% < 5%)
    assert '| flat | 4 | 400 | 0.310 | 0.310 | 0.310 (400) | yes, by the ' \
        'rule | - |' in table
    assert '| rising | 4 | 400 | 0.400 | 0.400 | 0.400 (400) | no |' in table
    assert '| yes, stopped |' in table


def test_curves_report_means_over_folds(tmp_path):
    """Curves <model>_fold<k>: one s/iter for <model> times every fold, and
    each budget gets the mean over the folds (min-max, folds that reached
    it); a model is 'best' only with every fold there."""
    pts = lambda *segm: [dict(iter=100 * (i + 1), segm_mAP=v,  # noqa: E731
                              bbox_mAP=v, train_seconds=1.0)
                         for i, v in enumerate(segm)]
    for k, (a, b) in enumerate([(0.4, 0.5), (0.2, 0.3), (0.3, 0.4)]):
        (tmp_path / f'big_fold{k}.json').write_text(json.dumps(
            dict(meta={}, curve=pts(a, b))))
    (tmp_path / 'small_fold0.json').write_text(json.dumps(
        dict(meta={}, curve=pts(0.6, 0.7, 0.8, 0.9, 0.9, 0.95))))
    (tmp_path / 'small_fold1.json').write_text(json.dumps(
        dict(meta={}, curve=pts(0.1, 0.2))))
    table = _run('curves_report.py', *map(str, sorted(tmp_path.glob(
        '*.json'))), '--out', str(tmp_path / 'r'), '--s-per-iter-value',
        'big=36', 'small=18', '--budgets', '1', '3')
    # 1 h = 100 iterations of big, 200 of small; big's curves end at 2 h
    assert '| 1 | 0.300 (0.200-0.400, 3/3) | 0.450 (0.200-0.700, 2/2) | ' \
        'small |' in table
    assert '| 3 | not reached | 0.950 (0.950-0.950, 1/2) | - |' in table
    assert 'big_fold2 36.00 s' in table


def _curve(path, fraction, seed, segm, max_iters=120, points=None):
    """A tools/train_curve.py record with the given segm mAP per point, of
    ``points`` evaluations in all (default: the run is finished)."""
    step = max_iters // (points or len(segm))
    path.write_text(json.dumps(dict(
        meta=dict(max_iters=max_iters, seed=seed, train_fraction=fraction,
                  subset_seed=seed, train_images=round(97 * fraction)),
        curve=[dict(iter=step * (i + 1), segm_mAP=s, bbox_mAP=s / 2,
                    train_seconds=10.0 * (i + 1))
               for i, s in enumerate(segm)])))


def test_less_data_report_pairs_feather_and_dense_by_seed(tmp_path):
    """Feather minus dense per fraction, paired by seed, at the end and at
    the best point of each run; unfinished runs are listed, not averaged."""
    for seed, (f25, d25) in enumerate([(0.20, 0.10), (0.15, 0.12)]):
        _curve(tmp_path / f'feather_25pct_seed{seed}.json', 0.25, seed,
               [0.05, 0.3, f25])
        _curve(tmp_path / f'dense_25pct_seed{seed}.json', 0.25, seed,
               [0.05, 0.1, d25])
    _curve(tmp_path / 'feather_100pct_seed0.json', 1, 0, [0.1, 0.2])
    _curve(tmp_path / 'dense_100pct_seed0.json', 1, 0, [0.1], points=2)
    out = tmp_path / 'report'
    table = _run('less_data_report.py', *map(str, tmp_path.glob('*.json')),
                 '--out', str(out))
    diffs = json.loads((tmp_path / 'report.json').read_text())['differences']
    (last, ) = diffs['last']  # 100%: no finished dense run to pair with
    assert last['fraction'] == 0.25 and last['n'] == 2
    assert last['mean'] == pytest.approx(((0.20 - 0.10) + (0.15 - 0.12)) / 2)
    assert last['wins'] == 2
    (best, ) = diffs['best']  # Feather's best is its middle point, 0.3
    assert best['mean'] == pytest.approx(((0.3 - 0.10) + (0.3 - 0.12)) / 2)
    assert 'Not finished: dense_100pct_seed0 (60 of 120)' in table
    assert (tmp_path / 'report.md').read_text() == table
    (tmp_path / 'odd.json').write_text('{}')
    bad = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'less_data_report.py'),
         str(tmp_path / 'odd.json'), '--out', str(out)],
        capture_output=True, text=True)
    assert bad.returncode != 0 and '<model>_<pct>pct_seed<k>' in bad.stderr
