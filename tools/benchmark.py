"""Side-by-side CPU benchmark of detector configs (random init, no data).

    python tools/benchmark.py                       # default set, both sizes
    python tools/benchmark.py cfg_a.py cfg_b.py --sizes 640x640 --threads 2

Measures, for every config and input size in one run, params, FLOPs
(mmengine's FlopAnalyzer), median CPU latency per runtime and per component,
and peak memory (``feather_mmdet.analysis.benchmark``). Each config runs in its
own process (clean peak memory). Runtimes: torch eager, torch fast path,
the exported graph on onnxruntime fp32 / int8 / OpenVINO (end to end: graph
+ mask pasting), and the torch fast path with the allocator setting.
``--repeat 3`` measures the set three times in alternating order. Writes
``<out-dir>/results.json``; ``tools/benchmark_report.py`` turns it into
tables and a plot.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Same list as feather_mmdet.analysis.benchmark.RUNTIMES (not imported here: the
# parent process stays light, the workers import torch).
RUNTIMES = ('torch', 'torch-fast', 'onnxruntime', 'openvino',
            'onnxruntime-int8', 'onnxruntime-int8-s8s8', 'onnxruntime-int8-rr',
            'onnxruntime-int8-qop', 'openvino-int8', 'torch-fast-malloc')
# The int8 variants beyond onnxruntime's default QDQ U8S8 are opt-in.
DEFAULT_RUNTIMES = ('torch', 'torch-fast', 'onnxruntime', 'onnxruntime-int8',
                    'openvino', 'torch-fast-malloc')
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
    'tiny': 'mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-'
    '2x128_scratch-640-1x_coco.py',
    'rtmdet-ins-tiny': 'mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py',
}


#: Calibration images of the int8 runtime: shipped training photos.
CALIB_IMAGES = [
    osp.join(REPO, 'data', 'fruits_nuts', 'images', f'{i}.jpg')
    for i in range(8)
]


def worker(config: str, args: argparse.Namespace) -> dict:
    from mmdet.utils import register_all_modules
    register_all_modules()
    from feather_mmdet.analysis.benchmark import measure_config
    return measure_config(
        config,
        args.sizes,
        args.threads,
        args.warmup,
        args.runs,
        runtimes=args.runtimes,
        onnx_dir=osp.join(args.out_dir, 'onnx'),
        calib_images=CALIB_IMAGES,
        profile=args.profile)


def run_set(configs: Dict[str, str], args: argparse.Namespace,
            reverse: bool) -> Tuple[Dict[str, dict], List[str]]:
    """Measure every config once, each in a fresh process."""
    results, failed, start = {}, [], time.time()
    items = list(configs.items())[::-1 if reverse else 1]
    for i, (name, config) in enumerate(items):
        print(f'[{i + 1}/{len(items)}] {name} ({config}) ...', flush=True)
        out = subprocess.run(
            [sys.executable, __file__, '--worker', config, '--sizes',
             *args.sizes, '--threads', str(args.threads), '--warmup',
             str(args.warmup), '--runs', str(args.runs), '--runtimes',
             *args.runtimes, '--out-dir', args.out_dir] +
            (['--profile'] if args.profile else []),
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
    # Keep the configured order whatever order they ran in.
    return {k: results[k] for k in configs if k in results}, failed


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs', nargs='*', help='configs (default: the built-in set)')
    parser.add_argument('--reference', help='name of the reference config')
    parser.add_argument(
        '--names', nargs='+', choices=list(DEFAULT_SET),
        help='only these of the built-in set')
    parser.add_argument('--sizes', nargs='+', default=['800x1333', '640x640'])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument(
        '--out-dir', default=osp.join(REPO, 'work_dirs', 'benchmark'))
    parser.add_argument(
        '--runtimes', nargs='+', default=list(DEFAULT_RUNTIMES),
        choices=RUNTIMES,
        help='what to time (default: all but the extra int8 variants)')
    parser.add_argument(
        '--repeat', type=int, default=1,
        help='measure the whole set N times, alternating the order, for '
        'the spread of the ratios')
    parser.add_argument(
        '--profile', action='store_true',
        help='add onnxruntime time per operator type')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return {}
    if 'onnxruntime-int8' in args.runtimes:
        missing = [p for p in CALIB_IMAGES if not osp.isfile(p)]
        if missing:
            parser.error(f'int8 calibration images missing: {missing[:2]}')

    configs = ({osp.splitext(osp.basename(c))[0]: c
                for c in args.configs} if args.configs else {
                    k: v if '::' in v else osp.join(CFG_DIR, v)
                    for k, v in DEFAULT_SET.items()
                    if not args.names or k in args.names
                })
    os.makedirs(args.out_dir, exist_ok=True)
    repeats, failed = [], []
    for rep in range(args.repeat):
        if args.repeat > 1:
            print(f'== repetition {rep + 1}/{args.repeat}', flush=True)
        results, rep_failed = run_set(configs, args, reverse=rep % 2 == 1)
        repeats.append(results)
        failed += rep_failed

    meta = dict(threads=args.threads, runs=args.runs, warmup=args.warmup,
                sizes=args.sizes, runtimes=args.runtimes,
                repeat=args.repeat,
                reference=args.reference or next(iter(configs)))
    path = osp.join(args.out_dir, 'results.json')
    with open(path, 'w') as f:
        json.dump(dict(meta=meta, results=repeats[0], repeats=repeats), f,
                  indent=2)
    print(f'written: {path} (table and plot: python tools/benchmark_report.py'
          f' {path})')
    if failed:
        raise SystemExit(f'benchmark failed for: {failed} (errors above)')
    return results


if __name__ == '__main__':
    main()
