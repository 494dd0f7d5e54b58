"""The chart to choose a model from: CPU latency (fastest runtime per model,
relative to a reference measured in the same run) against val segm mAP, the
Pareto front marked.

    python tools/pareto_chart.py \
        --benchmarks docs/benchmark/tiny/results.json docs/benchmark/repeat/results.json \
        --reference rtmdet-ins-tiny --size 640x640 \
        --ap docs/pareto/ap_rice_1h.json --out docs/pareto/rice_1h_640

``--benchmarks``: results.json files of tools/benchmark.py; a config is
taken from the first file that measured it next to the reference, and its
latency ratio is the median over that file's repetitions. ``--ap``: json
``{config name: val segm mAP}``, or the ``<out>_budgets.json`` of
tools/curves_report.py ``--budgets`` with ``--budget HOURS`` and
``--rename curve=config`` for curves named otherwise than the benchmark's
configs. ``--int8-runtime openvino-int8 --int8-ap-change CONFIG=FP32,INT8``
adds CONFIG's int8 file as its own point: its latency in that runtime over the
reference's fp32, its AP the fp32 AP plus the segm change measured between
the two metric files (fp32 and int8 exports of one checkpoint, evaluated with
tools/eval_onnx.py), so no int8 AP is plotted that was not measured.
Writes ``<out>.png`` and ``<out>.md``.
"""
import argparse
import json
import statistics
from typing import Dict, List, Optional

from feather_mmdet.analysis.benchmark_report import (describe_cpus,
                                                  fastest_ratio, plot_front)

INT8 = ' int8'


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--benchmarks', nargs='+', required=True)
    parser.add_argument('--reference', required=True,
                        help='config whose latency is 1 on the x axis')
    parser.add_argument('--size', required=True, help='e.g. 640x640')
    parser.add_argument('--runtimes', nargs='+',
                        default=['onnxruntime', 'openvino'],
                        help='runtimes a config may run in (fp32 files by '
                        'default: the AP is that of the fp32 model)')
    parser.add_argument('--ap', required=True,
                        help='json {config name: val segm mAP}, or '
                        'curves_report\'s {hours: {curve: mAP}} with '
                        '--budget')
    parser.add_argument('--budget', help='CPU hours to take from --ap')
    parser.add_argument('--rename', nargs='+', default=[],
                        metavar='AP_NAME=CONFIG',
                        help='names of --ap that differ from the benchmark')
    parser.add_argument('--out', required=True, help='path without suffix')
    parser.add_argument('--allow-missing', action='store_true',
                        help='leave out (and list) configs of --ap that no '
                        'benchmark measured, instead of failing')
    parser.add_argument('--int8-runtime',
                        help='int8 runtime of the benchmark (e.g. '
                        'openvino-int8) for the configs of --int8-ap-change')
    parser.add_argument('--int8-ap-change', nargs='+', default=[],
                        metavar='CONFIG=FP32_JSON,INT8_JSON',
                        help='metric files (segm_mAP) of the fp32 and int8 '
                        'exports of one checkpoint of CONFIG')
    parser.add_argument('--title', default='')
    args = parser.parse_args(argv)
    if bool(args.int8_runtime) != bool(args.int8_ap_change):
        parser.error('--int8-runtime and --int8-ap-change go together')
    with open(args.ap) as f:
        ap = json.load(f)
    if args.budget is not None:
        if args.budget not in ap:
            raise SystemExit(f'error: --budget {args.budget}: {args.ap} has '
                             f'{", ".join(ap)}')
        ap = ap[args.budget]
    rename = dict(item.split('=', 1) for item in args.rename)
    ap = {rename.get(k, k): v for k, v in ap.items()}
    points, rows, labels, missing = {}, [], {}, []
    benchmarks = {}
    for path in args.benchmarks:
        with open(path) as f:
            data = json.load(f)
        benchmarks[path] = data.get('repeats') or [data['results']]
    # (point, config measured, AP, runtimes it may run in)
    wanted = [(name, name, value, args.runtimes) for name, value in ap.items()]
    int8 = int8_points(args.int8_ap_change, ap, args.allow_missing)
    for name, value in int8.items():
        wanted.append((name + INT8, name, value, [args.int8_runtime]))
    for name, config, value, runtimes in wanted:
        for path, repeats in benchmarks.items():
            found = fastest_ratio(repeats, config, args.reference, args.size,
                                  runtimes, args.runtimes)
            if found:
                break
        else:
            if args.allow_missing:
                missing.append(name)
                continue
            raise SystemExit(
                f'error: no file of --benchmarks measured {name!r} next to '
                f'{args.reference!r} at {args.size} in {runtimes}; '
                'benchmark it, or leave it out of --ap')
        ratios, picked = found
        x = statistics.median(ratios)
        runtime = max(set(picked), key=picked.count)
        points[name] = (x, float(value))
        labels[name] = f'{name} ({runtime})'
        rows.append((name, runtime, x, min(ratios), max(ratios), len(ratios),
                     float(value), path))
    front = plot_front(
        points, f'latency @ {args.size} / {args.reference}\'s (same run), '
        'fastest runtime each', args.out + '.png', labels, args.title)
    table = ('| config | fastest runtime | latency / ' + args.reference +
             ' (min-max, n) | val segm mAP | Pareto front | measured in |\n'
             '|---|---|---|---|---|---|\n')
    for name, rt, x, lo, hi, n, value, path in sorted(rows,
                                                      key=lambda r: r[2]):
        table += (f'| {name} | {rt} | {x:.2f}x ({lo:.2f}-{hi:.2f}, n={n}) | '
                  f'{value:.3f} | {"yes" if name in front else ""} | '
                  f'{path} |\n')
    table += f'\nPareto front: {", ".join(front)}\n'
    plotted = {n: v for n, v in int8.items() if n + INT8 in points}
    if plotted:
        table += (f'\n`{INT8.strip()}`: the {args.int8_runtime} file; its mAP '
                  'is the fp32 one plus the segm change measured on one '
                  'checkpoint (' + ', '.join(
                      f'{n} {v - ap[n]:+.3f}' for n, v in plotted.items())
                  + ').\n')
    for path in sorted({row[-1] for row in rows}):
        cpus = describe_cpus({k: v for r in benchmarks[path]
                              for k, v in r.items()})
        if cpus:  # older results files do not say
            table += f'\nCPU of {path}: {cpus}\n'
    if missing:
        table += (f'\nNot measured at {args.size} next to {args.reference}, '
                  f'left out: {", ".join(missing)}\n')
    with open(args.out + '.md', 'w') as f:
        f.write(table)
    print(table)
    return table


def int8_points(changes: List[str], ap: Dict[str, float],
                allow_missing: bool = False) -> Dict[str, float]:
    """``{config: fp32 AP + measured int8 segm change}`` for each
    ``CONFIG=FP32_JSON,INT8_JSON`` (those without an AP left out when
    ``allow_missing``)."""
    points = {}
    for item in changes:
        name, _, files = item.partition('=')
        paths = files.split(',')
        if len(paths) != 2:
            raise SystemExit(f'error: --int8-ap-change {item!r}: expected '
                             'CONFIG=FP32_JSON,INT8_JSON')
        segm = []
        for path in paths:
            with open(path) as f:
                metrics = json.load(f)
            if 'segm_mAP' not in metrics:
                raise SystemExit(f'error: {path} has no segm_mAP (a metrics '
                                 'file of tools/eval_onnx.py is expected)')
            segm.append(metrics['segm_mAP'])
        if name in ap:
            points[name] = ap[name] + segm[1] - segm[0]
        elif not allow_missing:
            raise SystemExit(f'error: --int8-ap-change names {name!r}, which '
                             'has no AP in --ap')
    return points


if __name__ == '__main__':
    main()
