"""Side-by-side CPU benchmark of detector configs (random init, no data).

    python tools/benchmark.py                       # default set, both sizes
    python tools/benchmark.py cfg_a.py cfg_b.py --sizes 640x640 --threads 2

For every config and input size, in one run: params and FLOPs per component
(mmengine's FlopAnalyzer), median CPU latency of ``predict`` after warm-up
(plain model and the fast path of ``feather_mmdet.utils.
optimize_for_cpu_inference``), latency per component, and peak memory, with
ratios against ``--reference``. Work per image is fixed whatever the random
weights predict: the config's proposal count, score threshold 0 and 100
output masks. Each config runs in its own process (clean peak memory).
Writes ``results.json``, ``results.md`` and ``benchmark.png`` to ``--out-dir``.
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time
from functools import partial
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG_DIR = osp.join(REPO, 'configs', 'feather_mask_rcnn')
#: name -> config; the first is the default reference.
DEFAULT_SET = {
    'baseline': osp.join(CFG_DIR, 'mask-rcnn_r50-scratch_fpn_1x_coco.py'),
    'feather': osp.join(CFG_DIR, 'mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py'),
    '+fpn': osp.join(CFG_DIR, 'mask-rcnn_r50-dws_fpn-dws_dws-mask_1x_coco.py'),
    '+rpn': osp.join(CFG_DIR,
                     'mask-rcnn_r50-dws_fpn-dws_rpn-dws_dws-mask_1x_coco.py'),
    'full': osp.join(
        CFG_DIR,
        'mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_1x_coco.py'),
    'mobile': osp.join(
        CFG_DIR, 'mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_'
        'mobile-640_coco.py'),
    'rtmdet-ins-tiny': 'mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py',
}
COMPONENTS = ('backbone', 'neck', 'rpn_head', 'roi_head', 'bbox_head')
# (name, other, metric, size, bound): metric(name) <= bound * metric(other).
TARGETS = [
    ('feather', 'baseline', 'params', None, 0.70),
    ('feather', 'baseline', 'flops', '800x1333', 0.65),
    ('feather', 'baseline', 'latency_fast', '800x1333', 0.75),
    ('full', 'baseline', 'params', None, 0.35),
    ('full', 'baseline', 'latency_fast', '800x1333', 0.35),
    ('full', 'rtmdet-ins-tiny', 'latency_fast', '640x640', 2.0),
]


def _fix_work(cfg) -> None:
    """Score threshold 0 and 100 outputs, so the mask work is fixed; inputs
    padded to a multiple of 32 (RTMDet pads in its pipeline instead)."""
    preprocessor = cfg.model.data_preprocessor
    preprocessor.pad_size_divisor = max(
        preprocessor.get('pad_size_divisor', 1), 32)
    test_cfg = cfg.model.test_cfg
    target = test_cfg.rcnn if 'rcnn' in test_cfg else test_cfg
    target.score_thr = 0.0
    target.max_per_img = 100


def _inputs(model, h: int, w: int):
    import torch
    from mmdet.structures import DetDataSample
    sample = DetDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.)))
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    return model.data_preprocessor(
        dict(inputs=[img], data_samples=[sample]), False)


def _time_components(model) -> Dict[str, List[float]]:
    """Wrap the stages of ``predict`` to record their wall time."""
    times: Dict[str, List[float]] = {}

    def wrap(owner, attr, key):
        fn = getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            times.setdefault(key, []).append(time.perf_counter() - start)
            return out

        setattr(owner, attr, timed)

    for name in ('backbone', 'neck'):
        if hasattr(model, name):
            wrap(getattr(model, name), 'forward', name)
    for name in ('rpn_head', 'roi_head', 'bbox_head'):
        if hasattr(model, name):
            wrap(getattr(model, name), 'predict', name)
    return times


def _latency(model, data, warmup: int, runs: int) -> Dict[str, float]:
    import torch
    times = _time_components(model)
    with torch.no_grad():
        for _ in range(warmup):
            model.predict(data['inputs'], data['data_samples'])
        times.clear()
        total = []
        for _ in range(runs):
            start = time.perf_counter()
            results = model.predict(data['inputs'], data['data_samples'])
            total.append(time.perf_counter() - start)
    out = {'total': statistics.median(total)}
    out.update({k: statistics.median(v) for k, v in times.items()})
    out['num_masks'] = int(len(results[0].pred_instances))
    return out


def worker(config: str, sizes: List[str], threads: int, warmup: int,
           runs: int) -> dict:
    """Measure one config in this process; return a JSON-able dict."""
    import torch
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.analysis import FlopAnalyzer
    from mmengine.config import Config
    from mmengine.hub import get_config

    torch.set_num_threads(threads)
    register_all_modules()
    import feather_mmdet  # noqa: F401  (registers the modules)
    from feather_mmdet.utils import optimize_for_cpu_inference

    # 'mmdet::...' names a config shipped inside the mmdet package.
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    _fix_work(cfg)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model = MODELS.build(cfg.model).eval()
    res = dict(
        config=config,
        params={'model': sum(p.numel() for p in model.parameters())},
        sizes={})
    for name in COMPONENTS:
        if hasattr(model, name):
            res['params'][name] = sum(
                p.numel() for p in getattr(model, name).parameters())
    rpn = cfg.model.test_cfg.get('rpn')
    res['proposals'] = rpn.max_per_img if rpn else None

    for size in sizes:
        h, w = map(int, size.split('x'))
        data = _inputs(model, h, w)
        forward = model.forward
        model.forward = partial(forward, data_samples=data['data_samples'])
        with torch.no_grad():
            analyzer = FlopAnalyzer(model, inputs=data['inputs'])
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            by_module = analyzer.by_module()
        model.forward = forward
        flops = {'model': by_module['']}
        flops.update({k: by_module[k] for k in COMPONENTS if k in by_module})
        res['sizes'][size] = dict(
            flops=flops, latency=_latency(model, data, warmup, runs))

    model = optimize_for_cpu_inference(model)
    for size in sizes:
        h, w = map(int, size.split('x'))
        res['sizes'][size]['latency_fast'] = _latency(
            model, _inputs(model, h, w), warmup, runs)
    # ru_maxrss is in KiB on Linux.
    res['peak_mem_mb'] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                          rss_before) / 1024
    return res


def _metric(res: dict, metric: str, size: Optional[str]) -> float:
    if metric == 'params':
        return res['params']['model']
    entry = res['sizes'][size]
    return entry['flops']['model'] if metric == 'flops' else \
        entry[metric]['total']


def check_targets(results: Dict[str, dict]) -> List[str]:
    """Evaluate the targets whose configs (and sizes) were measured."""
    lines = []
    for name, other, metric, size, bound in TARGETS:
        if name not in results or other not in results:
            continue
        if size and (size not in results[name]['sizes']
                     or size not in results[other]['sizes']):
            continue
        ratio = _metric(results[name], metric, size) / _metric(
            results[other], metric, size)
        ok = 'HOLDS' if ratio <= bound else 'MISSED'
        lines.append(f'{ok}: {name} {metric}{" @ " + size if size else ""} '
                     f'= {ratio:.2f}x {other} (target <= {bound}x)')
    for name, res in results.items():
        for size, entry in res['sizes'].items():
            ref = results.get('baseline')
            if name == 'baseline' or ref is None or 'rtmdet' in name \
                    or size not in ref['sizes']:
                continue
            lat = entry['latency_fast']['total'] / \
                ref['sizes'][size]['latency_fast']['total']
            flp = entry['flops']['model'] / ref['sizes'][size]['flops']['model']
            ok = 'HOLDS' if lat <= 1.3 * flp else 'MISSED'
            lines.append(f'{ok}: {name} @ {size} latency ratio {lat:.2f}x <= '
                         f'1.3 x FLOPs ratio {flp:.2f}x')
    return lines


def to_markdown(results: Dict[str, dict], reference: str,
                sizes: List[str]) -> str:
    ref = results[reference]
    head = ['config', 'params (M)', 'proposals']
    for size in sizes:
        head += [f'GFLOPs {size}', f'latency {size} (s)',
                 f'fast path {size} (s)']
    head.append('peak mem (MB)')
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]

    def cell(value, ref_value, fmt):
        return f'{fmt.format(value)} ({value / ref_value:.2f}x)'

    for name, res in results.items():
        cells = [
            name,
            cell(res['params']['model'] / 1e6,
                 ref['params']['model'] / 1e6, '{:.2f}'),
            str(res['proposals'] or '-')
        ]
        for size in sizes:
            e, r = res['sizes'][size], ref['sizes'][size]
            cells += [
                cell(e['flops']['model'] / 1e9, r['flops']['model'] / 1e9,
                     '{:.1f}'),
                cell(e['latency']['total'], r['latency']['total'], '{:.2f}'),
                cell(e['latency_fast']['total'], r['latency_fast']['total'],
                     '{:.2f}')
            ]
        cells.append(f'{res["peak_mem_mb"]:.0f}')
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows) + '\n'


def plot(results: Dict[str, dict], sizes: List[str], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    size = sizes[0]
    ax = axes[0]
    for name, res in results.items():
        x = res['params']['model'] / 1e6
        y = res['sizes'][size]['latency_fast']['total']
        ax.scatter(x, y)
        ax.annotate(name, (x, y), textcoords='offset points', xytext=(4, 4))
    ax.set_xlabel('params (M)')
    ax.set_ylabel(f'latency @ {size}, fast path (s)')
    ax.set_title('latency vs params')
    ax.grid(alpha=0.3)
    ax = axes[1]
    names = list(results)
    bottom = [0.0] * len(names)
    for comp in COMPONENTS:
        vals = [
            results[n]['sizes'][size]['latency_fast'].get(comp, 0.0)
            for n in names
        ]
        if any(vals):
            ax.bar(names, vals, bottom=bottom, label=comp)
            bottom = [b + v for b, v in zip(bottom, vals)]
    rest = [
        results[n]['sizes'][size]['latency_fast']['total'] - b
        for n, b in zip(names, bottom)
    ]
    ax.bar(names, rest, bottom=bottom, label='other (preprocess, paste)')
    ax.set_ylabel(f'latency @ {size}, fast path (s)')
    ax.set_title('where the time goes')
    ax.legend(fontsize=8)
    ax.tick_params(axis='x', rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs', nargs='*', help='configs (default: the built-in set)')
    parser.add_argument('--reference', help='name or config of the reference')
    parser.add_argument('--sizes', nargs='+', default=['800x1333', '640x640'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument(
        '--out-dir', default=osp.join(REPO, 'work_dirs', 'benchmark'))
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.sizes, args.threads,
                                args.warmup, args.runs)))
        return {}

    configs = ({osp.splitext(osp.basename(c))[0]: c
                for c in args.configs} if args.configs else DEFAULT_SET)
    reference = args.reference or next(iter(configs))
    if reference not in configs:
        reference = osp.splitext(osp.basename(reference))[0]
    os.makedirs(args.out_dir, exist_ok=True)
    results, failed, start = {}, [], time.time()
    for i, (name, config) in enumerate(configs.items()):
        print(f'[{i + 1}/{len(configs)}] {name} ({config}) ...', flush=True)
        out = subprocess.run(
            [sys.executable, __file__, '--worker', config, '--sizes',
             *args.sizes, '--threads', str(args.threads), '--warmup',
             str(args.warmup), '--runs', str(args.runs)],
            capture_output=True, text=True)
        if out.returncode != 0:
            # Report it, keep measuring the others, fail at the end.
            sys.stderr.write(out.stderr[-3000:])
            failed.append(config)
            continue
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        lat = ', '.join(
            f'{s}: {e["latency"]["total"]:.2f}s / fast '
            f'{e["latency_fast"]["total"]:.2f}s'
            for s, e in results[name]['sizes'].items())
        print(f'    {lat}  ({time.time() - start:.0f}s elapsed)', flush=True)

    if reference not in results:
        raise SystemExit(f'reference {reference!r} failed; nothing to compare')
    table = to_markdown(results, reference, args.sizes)
    targets = check_targets(results)
    meta = dict(threads=args.threads, runs=args.runs, warmup=args.warmup,
                reference=reference, torch_threads=args.threads)
    with open(osp.join(args.out_dir, 'results.json'), 'w') as f:
        json.dump(dict(meta=meta, results=results, targets=targets), f,
                  indent=2)
    with open(osp.join(args.out_dir, 'results.md'), 'w') as f:
        f.write(table + '\n' + '\n'.join(f'- {t}' for t in targets) + '\n')
    plot(results, args.sizes, osp.join(args.out_dir, 'benchmark.png'))
    print('\n' + table)
    print('\n'.join(targets))
    print(f'\nwritten: {args.out_dir}/results.md, results.json, benchmark.png')
    if failed:
        raise SystemExit(f'benchmark failed for: {failed} (errors above)')
    return results


if __name__ == '__main__':
    main()
