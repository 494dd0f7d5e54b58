"""Training speed on CPU, side by side: seconds per iteration of several
configs on their real training data, and a per-component profile.

    # dense vs Feather on rice (the first config is the reference of the ratios)
    python tools/benchmark_training.py \
        dense=configs/feather_mask_rcnn/mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_rice-leaf.py \
        feather=configs/feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_rice-leaf.py
    # a variant of one entry: the same config with overrides
    python tools/benchmark_training.py dense=<cfg> feather=<cfg> feather-nocl=<cfg> \
        --set feather-nocl custom_hooks.3.channels_last=False
    # where one iteration's time goes
    python tools/benchmark_training.py feather=<cfg> --profile
    # on another COCO folder (images/ + annotations/{train,val}.json)
    python tools/benchmark_training.py feather=<cfg> --profile \
        --set feather data_root=path/to/folder train_dataloader.num_workers=0

Each measurement runs in a fresh process (its own allocator state and data
workers); the order of the configs alternates between repeats (forward,
reversed, ...), and the table gives the median over repeats of each run's
median s/iter, the spread, and the per-repeat ratio to the first config.
Run it alone on the machine: another heavy job makes every number wrong.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
from typing import Dict, List, Optional

from mmengine.config import DictAction

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CPU training speed of configs, side by side')
    parser.add_argument(
        'configs', nargs='+', metavar='[NAME=]CONFIG',
        help='configs to compare; the first is the reference of the ratios')
    parser.add_argument('--iters', type=int, default=10,
                        help='timed iterations per run')
    parser.add_argument('--warmup', type=int, default=3,
                        help='iterations run first and not timed')
    parser.add_argument('--repeats', type=int, default=3,
                        help='runs per config, alternating the order')
    parser.add_argument(
        '--set', nargs='+', action='append', default=[],
        metavar=('NAME', 'KEY=VALUE'),
        help='overrides for one entry only (repeatable)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every entry')
    parser.add_argument(
        '--pairs', nargs='+', default=[], metavar='A/B',
        help='also print the per-repeat ratio of entry A to entry B (e.g. '
        'feather/dense)')
    parser.add_argument('--profile', action='store_true',
                        help='per-component profile of one iteration '
                        'instead of the s/iter table')
    parser.add_argument('--out', help='also write the results as json here')
    parser.add_argument('--single', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0 or args.repeats < 1:
        parser.error('--iters and --repeats must be >= 1, --warmup >= 0')
    return args


def parse_entries(args: argparse.Namespace) -> Dict[str, dict]:
    """``{name: dict(config=path, options={...})}`` in the given order."""
    entries: Dict[str, dict] = {}
    for spec in args.configs:
        name, _, path = spec.rpartition('=')
        name = name or osp.splitext(osp.basename(path))[0]
        if not osp.isfile(path):
            sys.exit(f'error: config {path!r} (entry {name!r}) does not '
                     'exist; give the path of a config file.')
        if name in entries:
            sys.exit(f'error: entry name {name!r} given twice; name them '
                     'NAME=CONFIG.')
        entries[name] = dict(config=osp.abspath(path),
                             options=dict(args.cfg_options or {}))
    for name, *pairs in args.set:
        if name not in entries:
            sys.exit(f'error: --set {name}: no such entry; the entries are '
                     f'{", ".join(entries)}.')
        action = DictAction(option_strings=['--set'], dest='set')
        namespace = argparse.Namespace()
        action(None, namespace, pairs)
        entries[name]['options'].update(namespace.set)
    return entries


def run_single(entry: dict, args: argparse.Namespace) -> dict:
    """Measure one entry in this process (the child side)."""
    import torch
    from mmengine.config import Config

    from feather_mmdet.analysis.train_speed import (measure_train_speed,
                                                 profile_train_iter)
    os.chdir(REPO)  # the configs' data paths are relative to the repo
    cfg = Config.fromfile(entry['config'])
    options = dict(entry['options'])
    data_root = options.pop('data_root', None)
    cfg.merge_from_dict(options)
    if data_root:  # another COCO folder: every dataloader, head, evaluator
        from feather_mmdet.utils.own_data import use_coco_folder
        use_coco_folder(cfg, data_root)
    torch.manual_seed(0)
    if args.profile:
        return profile_train_iter(cfg, args.iters, args.warmup)
    return measure_train_speed(cfg, args.iters, args.warmup)


def run_child(name: str, entry: dict, argv: List[str]) -> dict:
    """Measure one entry in a fresh process."""
    cmd = [sys.executable, osp.abspath(__file__), *argv, '--single',
           json.dumps(dict(name=name, **entry))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        sys.exit(f'error: the run of {name!r} failed (exit '
                 f'{proc.returncode}); its last output is above.')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Optional[List[str]] = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.single:
        print(json.dumps(run_single(json.loads(args.single), args)))
        return {}
    from feather_mmdet.analysis.train_speed import ratio_table
    entries = parse_entries(args)
    names = list(entries)
    runs: Dict[str, List[dict]] = {name: [] for name in names}
    for rep in range(args.repeats):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            result = run_child(name, entries[name], argv)
            runs[name].append(result)
            shown = f'{result["total"]:.3f} s/iter total' if args.profile \
                else f'median {result["median"]:.3f} s/iter'
            print(f'[repeat {rep + 1}/{args.repeats}] {name}: {shown}',
                  flush=True)
    if args.profile:
        report = profile_table(runs)
    else:
        medians = {n: [r['median'] for r in rs] for n, rs in runs.items()}
        report = ratio_table(medians, names[0])
        report += pair_lines(medians, args.pairs)
    print(report)
    from feather_mmdet.utils.cpu import cpu_info
    results = dict(entries=entries, runs=runs, report=report,
                   iters=args.iters, warmup=args.warmup,
                   repeats=args.repeats, cpu=cpu_info())
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


def pair_lines(medians: Dict[str, List[float]], pairs: List[str]) -> str:
    """One line per ``A/B``: the ratio of the two entries' s/iter within
    each repeat (the same conditions), median and min-max."""
    lines = []
    for pair in pairs:
        a, _, b = pair.partition('/')
        if a not in medians or b not in medians:
            sys.exit(f'error: --pairs {pair}: entries are '
                     f'{", ".join(medians)}')
        ratios = [x / y for x, y in zip(medians[a], medians[b])]
        lines.append(f'{a}/{b}: {statistics.median(ratios):.3f} '
                     f'({min(ratios):.3f}-{max(ratios):.3f}) over '
                     f'{len(ratios)} repeats')
    return ''.join(f'\n{line}' for line in lines) + ('\n' if lines else '')


def profile_table(runs: Dict[str, List[dict]]) -> str:
    """Markdown: per component, median over repeats of the mean seconds per
    iteration, and its share of the total, one column per entry."""
    names = list(runs)
    keys = list(runs[names[0]][0])
    lines = ['| part | ' + ' | '.join(names) + ' |',
             '|---|' + '---|' * len(names)]
    for key in keys:
        cells = []
        for name in names:
            value = statistics.median(r.get(key, 0.0) for r in runs[name])
            total = statistics.median(r['total'] for r in runs[name])
            cells.append(f'{value:.3f} s ({value / total:.0%})')
        lines.append(f'| {key} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
