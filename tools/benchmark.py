"""Side-by-side CPU benchmark of detector configs (random init, no data).

    python tools/benchmark.py                       # default set, both sizes
    python tools/benchmark.py cfg_a.py cfg_b.py --sizes 640x640 --threads 2

Measures, for every config and input size in one run, params, FLOPs
(mmengine's FlopAnalyzer), median CPU latency per runtime and per component,
and peak memory (``feather_mmdet.apis.benchmark``). Each config runs in its
own process (clean peak memory). Writes ``<out-dir>/results.json``; then
``tools/benchmark_report.py`` turns it into a table and a plot.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG_DIR = osp.join(REPO, 'configs', 'feather_mask_rcnn')
#: name -> config; the first is the default reference.
DEFAULT_SET = {
    'baseline': 'mask-rcnn_r50_fpn_scratch-1x_coco.py',
    'feather': 'mask-rcnn_r50-dws_fpn_dws-mask_scratch-1x_coco.py',
    '+fpn': 'mask-rcnn_r50-dws_fpn-dws_dws-mask_scratch-1x_coco.py',
    '+rpn': 'mask-rcnn_r50-dws_fpn-dws_rpn-dws_dws-mask_scratch-1x_coco.py',
    'full':
    'mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_scratch-1x_coco.py',
    'mobile': 'mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_'
    'scratch-640-1x_coco.py',
    'rtmdet-ins-tiny': 'mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py',
}


def worker(config: str, args: argparse.Namespace) -> dict:
    from mmdet.utils import register_all_modules
    register_all_modules()
    from feather_mmdet.apis.benchmark import measure_config
    return measure_config(config, args.sizes, args.threads, args.warmup,
                          args.runs)


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs', nargs='*', help='configs (default: the built-in set)')
    parser.add_argument('--reference', help='name of the reference config')
    parser.add_argument('--sizes', nargs='+', default=['800x1333', '640x640'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument(
        '--out-dir', default=osp.join(REPO, 'work_dirs', 'benchmark'))
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return {}

    configs = ({osp.splitext(osp.basename(c))[0]: c
                for c in args.configs} if args.configs else {
                    k: v if '::' in v else osp.join(CFG_DIR, v)
                    for k, v in DEFAULT_SET.items()
                })
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
        lat = ', '.join(f'{size} {rt} {e["total"]:.2f}s'
                        for size, entry in results[name]['sizes'].items()
                        for rt, e in entry['latency'].items())
        print(f'    {lat}  ({time.time() - start:.0f}s elapsed)', flush=True)

    meta = dict(threads=args.threads, runs=args.runs, warmup=args.warmup,
                sizes=args.sizes,
                reference=args.reference or next(iter(configs)))
    path = osp.join(args.out_dir, 'results.json')
    with open(path, 'w') as f:
        json.dump(dict(meta=meta, results=results), f, indent=2)
    print(f'written: {path} (table and plot: python tools/benchmark_report.py'
          f' {path})')
    if failed:
        raise SystemExit(f'benchmark failed for: {failed} (errors above)')
    return results


if __name__ == '__main__':
    main()
