"""Feather minus its dense twin at each fraction of the training images, from
the learning curves of ``docs/curves/less_data*.sh`` (``tools/train_curve.py
--train-fraction``), paired by subset seed.

    python tools/less_data_report.py docs/curves/less_data_tiny/*_seed*.json \\
        --out docs/curves/less_data_tiny/report

Curve files are named ``<model>_<pct>pct_seed<k>.json`` (as the scripts name
them); the fraction and seed are read from each curve's record. A run counts
once it has reached its schedule's end (``max_iters``); unfinished runs are
listed as such and left out of the means. Two verdicts: at the end of the
schedule (the last evaluation) and at each run's best evaluation. Writes
``<out>.md`` and ``<out>.json`` and prints the markdown.
"""
import argparse
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional

from feather_mmdet.analysis.study import (differences_markdown,
                                          paired_differences, summarize,
                                          to_markdown)

NAME = re.compile(r'^(?P<model>.+)_(?P<pct>\d+)pct_seed(?P<seed>\d+)$')


def load_runs(paths: List[str]) -> Dict[str, List[dict]]:
    """``{'last': runs, 'best': runs, 'unfinished': [...]}`` in the run
    format of :mod:`feather_mmdet.analysis.study`."""
    out: Dict[str, List[dict]] = dict(last=[], best=[], unfinished=[])
    for path in sorted(paths):
        stem = osp.splitext(osp.basename(path))[0]
        match = NAME.match(stem)
        if not match:
            raise SystemExit(
                f'{path}: expected a curve named <model>_<pct>pct_seed<k>'
                '.json (as docs/curves/less_data*.sh write them)')
        with open(path) as f:
            record = json.load(f)
        meta, curve = record.get('meta', {}), record.get('curve', [])
        if 'max_iters' not in meta:
            raise SystemExit(f'{path} is not a curve of tools/train_curve.py'
                             ' (no meta.max_iters)')
        fraction = meta.get('train_fraction') or 1.0
        if not curve or curve[-1]['iter'] < meta['max_iters']:
            out['unfinished'].append(dict(
                name=stem, at=curve[-1]['iter'] if curve else 0,
                of=meta['max_iters']))
            continue
        best = max(curve, key=lambda p: p['segm_mAP'])
        for key, point in (('last', curve[-1]), ('best', best)):
            out[key].append(dict(
                dataset='rice', model=match['model'], split='train',
                fraction=fraction, seed=meta.get('subset_seed', meta['seed']),
                iterations=meta['max_iters'], best_iter=point['iter'],
                train_images=meta.get('train_images', 0),
                segm_mAP=point['segm_mAP'], bbox_mAP=point['bbox_mAP'],
                train_seconds=point['train_seconds']))
    return out


def report(runs: Dict[str, List[dict]], diffs: Dict[str, List[dict]],
           model: str = 'feather', reference: str = 'dense') -> str:
    """Markdown: per-run values, means per model and fraction, and the
    paired ``model - reference`` differences (``diffs``, per ``'last'`` and
    ``'best'``), at the end and at the best evaluation of each run."""
    text = ''
    if runs['last']:
        text += ('| run | train fraction | seed | train images | segm (last) '
                 '| bbox (last) | best segm (iter) |\n'
                 '|---|---|---|---|---|---|---|\n')
        for last, best in zip(runs['last'], runs['best']):
            text += (f'| {last["model"]} | {last["fraction"]:.0%} | '
                     f'{last["seed"]} | {last["train_images"]} | '
                     f'{last["segm_mAP"]:.3f} | {last["bbox_mAP"]:.3f} | '
                     f'{best["segm_mAP"]:.3f} ({best["best_iter"]}) |\n')
        for key, what in (('last', 'at the end of the schedule'),
                          ('best', "at each run's best evaluation")):
            text += (f'\nMeans over seeds, {what} (± std):\n\n'
                     + to_markdown(summarize(runs[key])))
            if diffs[key]:
                text += (f'\n{model} - {reference}, paired by seed, {what}:'
                         '\n\n' + differences_markdown(diffs[key], model,
                                                       reference))
    if runs['unfinished']:
        text += '\nNot finished: ' + ', '.join(
            f'{u["name"]} ({u["at"]} of {u["of"]})'
            for u in runs['unfinished']) + '\n'
    return text or 'no curves\n'


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('curves', nargs='+', help='curve json files')
    parser.add_argument('--out', required=True,
                        help='output path without extension')
    parser.add_argument('--model', default='feather')
    parser.add_argument('--reference', default='dense')
    args = parser.parse_args(argv)
    runs = load_runs(args.curves)
    diffs = {key: paired_differences(runs[key], args.model, args.reference)
             for key in ('last', 'best')}
    text = report(runs, diffs, args.model, args.reference)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out + '.md', 'w') as f:
        f.write(text)
    with open(args.out + '.json', 'w') as f:
        json.dump(dict(runs=runs, differences=diffs), f, indent=1)
    print(text, end='')
    return text


if __name__ == '__main__':
    main()
