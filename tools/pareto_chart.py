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
configs.
Writes ``<out>.png`` and ``<out>.md``.
"""
import argparse
import json
import statistics
from typing import List, Optional

from feather_mmdet.analysis.benchmark_report import fastest_ratio, plot_front


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
    parser.add_argument('--title', default='')
    args = parser.parse_args(argv)
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
    for name, value in ap.items():
        for path, repeats in benchmarks.items():
            found = fastest_ratio(repeats, name, args.reference, args.size,
                                  args.runtimes)
            if found:
                break
        else:
            if args.allow_missing:
                missing.append(name)
                continue
            raise SystemExit(
                f'error: no file of --benchmarks measured {name!r} next to '
                f'{args.reference!r} at {args.size} in {args.runtimes}; '
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
    if missing:
        table += (f'\nNot measured at {args.size} next to {args.reference}, '
                  f'left out: {", ".join(missing)}\n')
    with open(args.out + '.md', 'w') as f:
        f.write(table)
    print(table)
    return table


if __name__ == '__main__':
    main()
