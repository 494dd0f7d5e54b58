"""Table and plot from tools/benchmark.py's results.json.

    python tools/benchmark_report.py work_dirs/benchmark/results.json \
        [--runtime torch-fast] [--size 800x1333]

Writes ``results.md`` and ``benchmark.png`` next to the json and prints the
table. Ratios are against the reference config of the same run. With
``--ap ap.json`` (``{config name: val segm mAP}``) also ``pareto.png``:
latency in each config's fastest runtime vs AP, the Pareto front marked.
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

from feather_mmdet.analysis.benchmark_report import (describe_cpus,
                                                  int8_markdown, plot,
                                                  plot_pareto,
                                                  profile_markdown,
                                                  runtimes_of,
                                                  spread_markdown,
                                                  to_markdown)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('results', help='results.json of tools/benchmark.py')
    parser.add_argument('--runtime', help='runtime of the plot')
    parser.add_argument('--size', help='input size of the plot')
    parser.add_argument(
        '--ap', help='json {config name: val segm mAP}: also plot latency '
        '(fastest runtime each) vs AP with the Pareto front (pareto.png)')
    args = parser.parse_args(argv)
    with open(args.results) as f:
        data = json.load(f)
    results, meta = data['results'], data['meta']
    if meta['reference'] not in results:
        raise SystemExit(f'reference {meta["reference"]!r} is not in '
                         f'{args.results} (it failed to run?)')
    table = to_markdown(results, meta['reference'], meta['sizes'])
    cpus = describe_cpus(results)
    if cpus:  # older results files do not say
        table = f'CPU: {cpus}\n\n' + table
    repeats = data.get('repeats', [results])
    if len(repeats) > 1:
        table += (f'\nLatency ratio to {meta["reference"]}, median (min-max) '
                  f'over {len(repeats)} repetitions in alternating order:\n\n'
                  + spread_markdown(repeats, meta['reference'],
                                    meta['sizes']))
    int8 = int8_markdown(repeats)
    if int8:
        table += ('\nint8 variants against the fp32 file in the same '
                  'repetition:\n\n' + int8)
    profile = profile_markdown(results)
    if profile:
        table += '\nonnxruntime time per operator type (one run):\n\n' + \
            profile
    out_dir = osp.dirname(osp.abspath(args.results))
    if args.ap:
        with open(args.ap) as f:
            front = plot_pareto(results, json.load(f), args.size or
                                meta['sizes'][0],
                                osp.join(out_dir, 'pareto.png'))
        table += f'\nPareto front (latency vs AP): {", ".join(front)}\n'
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(table)
    runtime = args.runtime or runtimes_of(results)[-1]
    plot(results, args.size or meta['sizes'][0], runtime,
         osp.join(out_dir, 'benchmark.png'))
    print(table)
    print(f'written: {out_dir}/results.md, benchmark.png'
          + (', pareto.png' if args.ap else ''))
    return table


if __name__ == '__main__':
    main()
