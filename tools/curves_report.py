"""Tables and plots of learning curves written by tools/train_curve.py.

    python tools/curves_report.py docs/recipe_ablation/*.json \
        --out docs/recipe_ablation/results --s-per-iter docs/training_speed/rice_speed.json

Writes ``<out>.md`` (one row per curve: final and best segm/bbox mAP, the
iteration of the best, whether it plateaued: stopped there, or its last
third within 5% of the best before it, tools/train_curve.py's rule) and
``<out>.png`` (segm mAP vs iterations, and vs CPU hours when seconds per
iteration are given). CPU
hours are iterations x a clean s/iter measured alone
(tools/benchmark_training.py), not the wall time of the run; pass the
benchmark's json and ``--speed-entry CURVE=ENTRY`` to say which of its
entries times which curve, or ``--s-per-iter-value CURVE=SECONDS``.
``--budgets 1 2 4`` adds each curve's segm mAP at those CPU hours and the
best model at each (also as ``<out>_budgets.json``, the ``--ap`` of
tools/pareto_chart.py). Curves named ``<model>_fold<k>`` (tools/train_curve.py
``--folds``) are also summarised per model: mean and min-max over the folds
at each budget; a ``--speed-entry``/``--s-per-iter-value`` given for
``<model>`` times all its folds.
"""
import argparse
import json
import os.path as osp
import re
import statistics
from typing import Dict, List, Optional, Tuple


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('curves', nargs='+', help='curve json files')
    parser.add_argument('--out', required=True,
                        help='output path without extension')
    parser.add_argument('--s-per-iter', nargs='+', default=[],
                        help='json files of tools/benchmark_training.py')
    parser.add_argument('--speed-entry', nargs='+', default=[],
                        metavar='CURVE=ENTRY',
                        help='benchmark entry that times a curve')
    parser.add_argument('--s-per-iter-value', nargs='+', default=[],
                        metavar='CURVE=SECONDS')
    parser.add_argument(
        '--budgets', nargs='+', type=float, default=[], metavar='HOURS',
        help='also tabulate each curve\'s segm mAP at these CPU hours (its '
        'last evaluation within the budget) and the best model at each')
    parser.add_argument('--title', default='')
    return parser.parse_args(argv)


def _pairs(items: List[str], what: str) -> Dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep:
            raise SystemExit(f'error: {what} {item!r}: write NAME=VALUE')
        out[key] = value
    return out


def seconds_per_iter(args: argparse.Namespace) -> Dict[str, float]:
    """Curve name -> clean s/iter."""
    out = {k: float(v) for k, v in
           _pairs(args.s_per_iter_value, '--s-per-iter-value').items()}
    entries = _pairs(args.speed_entry, '--speed-entry')
    if entries:
        if not args.s_per_iter:
            raise SystemExit('error: --speed-entry needs --s-per-iter')
        runs = {}
        for path in args.s_per_iter:
            with open(path) as f:
                runs.update(json.load(f)['runs'])
        for curve, entry in entries.items():
            if entry not in runs:
                raise SystemExit(
                    f'error: --speed-entry {curve}={entry}: no entry '
                    f'{entry!r} in {", ".join(args.s_per_iter)} '
                    f'({", ".join(runs)})')
            out[curve] = statistics.median(r['median'] for r in runs[entry])
    return out


def model_of(name: str) -> str:
    """``feather_fold2`` -> ``feather``; other names stay as they are."""
    return re.sub(r'_fold\d+$', '', name)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    spi = seconds_per_iter(args)
    records = {}
    for path in args.curves:
        with open(path) as f:
            record = json.load(f)
        if not isinstance(record, dict) or 'curve' not in record:
            raise SystemExit(f'error: {path} is not a curve of '
                             'tools/train_curve.py (no "curve" key); leave '
                             'it out of the curve files')
        name = osp.splitext(osp.basename(path))[0]
        records[name] = record
        if name not in spi and model_of(name) in spi:
            spi[name] = spi[model_of(name)]
    spi = {n: v for n, v in spi.items() if n in records}
    head = ('| run | points | last iter | segm mAP (last) | bbox mAP (last) '
            '| best segm mAP (iter) | plateau | CPU h (last) |\n'
            '|---|---|---|---|---|---|---|---|\n')
    rows = []
    for name, rec in records.items():
        curve = rec['curve']
        if not curve:
            rows.append(f'| {name} | 0 | - | - | - | - | - | - |')
            continue
        last = curve[-1]
        best = max(curve, key=lambda p: p['segm_mAP'])
        hours = f'{last["iter"] * spi[name] / 3600:.2f}' if name in spi \
            else '-'
        rows.append(
            f'| {name} | {len(curve)} | {last["iter"]} | '
            f'{last["segm_mAP"]:.3f} | {last["bbox_mAP"]:.3f} | '
            f'{best["segm_mAP"]:.3f} ({best["iter"]}) | '
            f'{plateau_cell(rec)} | '
            f'{hours} |')
    report = head + '\n'.join(rows) + '\n'
    if spi:
        report += '\nCPU hours = iterations x clean s/iter: ' + ', '.join(
            f'{k} {v:.2f} s' for k, v in spi.items()) + '\n'
    if args.budgets:
        if not spi:
            raise SystemExit('error: --budgets needs seconds per iteration '
                             '(--speed-entry or --s-per-iter-value)')
        report += '\n' + budget_table(records, spi, args.budgets)
        if any(model_of(n) != n for n in records):
            report += '\n' + fold_table(records, spi, args.budgets)
        at = {f'{h:g}': budget_values(records, spi, h) for h in args.budgets}
        with open(args.out + '_budgets.json', 'w') as f:
            json.dump(at, f, indent=1)  # tools/pareto_chart.py --ap
    with open(args.out + '.md', 'w') as f:
        f.write(report)
    plot(records, spi, args.out + '.png', args.title)
    print(report)
    return report


def plateau_cell(rec: dict) -> str:
    """'stopped' when the run stopped at its plateau; else whether its curve
    meets tools/train_curve.py's rule (a run with --no-stop never stops, but
    its curve can still be flat)."""
    from feather_mmdet.engine import plateaued
    if rec.get('stopped') == 'plateau':
        return 'yes, stopped'
    return 'yes, by the rule' if plateaued(rec['curve']) else 'no'


def at_budget(curve: List[dict], s_per_iter: float,
              hours: float) -> Optional[dict]:
    """The last point of ``curve`` within ``hours`` of CPU time (3% of
    slack), or None when it has none there."""
    limit = hours * 3600 / s_per_iter * 1.03
    inside = [p for p in curve if p['iter'] <= limit]
    return inside[-1] if inside else None


def budget_cell(rec: dict, s_per_iter: float,
                hours: float) -> Tuple[str, Optional[float]]:
    """What a curve says at a CPU budget: table text and segm mAP (None
    when it says nothing). A run stopped at its plateau keeps its last value
    at later budgets; any other curve that ends before the budget (by more
    than 3%) cannot say what that budget buys."""
    curve = rec['curve']
    end = curve[-1]['iter'] * s_per_iter / 3600 if curve else 0
    if end < hours * 0.97:
        if rec.get('stopped') == 'plateau':
            last = curve[-1]
            return (f'{last["segm_mAP"]:.3f} (plateau at {last["iter"]})',
                    last['segm_mAP'])
        return 'not reached', None
    point = at_budget(curve, s_per_iter, hours)
    if point is None:
        return 'no evaluation yet', None
    return f'{point["segm_mAP"]:.3f} ({point["iter"]})', point['segm_mAP']


def budget_values(records: Dict[str, dict], spi: Dict[str, float],
                  hours: float) -> Dict[str, float]:
    """Curve -> segm mAP at ``hours``, for the curves that say one."""
    cells = {n: budget_cell(records[n], spi[n], hours)[1]
             for n in records if n in spi}
    return {n: v for n, v in cells.items() if v is not None}


def budget_table(records: Dict[str, dict], spi: Dict[str, float],
                 budgets: List[float]) -> str:
    """Markdown: segm mAP (iteration) of each curve at each CPU budget and
    the best curve there."""
    names = [n for n in records if n in spi]
    lines = ['| CPU hours | ' + ' | '.join(names) + ' | best |',
             '|---' * (len(names) + 2) + '|']
    for hours in budgets:
        said = {n: budget_cell(records[n], spi[n], hours) for n in names}
        cells = [text for text, _ in said.values()]
        scores = {n: v for n, (_, v) in said.items() if v is not None}
        best = max(scores, key=scores.get) if scores else '-'
        if scores and len(scores) < len(names):
            best += ' (of those reached)'
        lines.append(f'| {hours:g} | ' + ' | '.join(cells) + f' | {best} |')
    return ('segm mAP (iteration) at each CPU budget, the last evaluation '
            'within it:\n\n' + '\n'.join(lines) + '\n')


def fold_table(records: Dict[str, dict], spi: Dict[str, float],
               budgets: List[float]) -> str:
    """Markdown: per model, the mean segm mAP over its folds at each CPU
    budget (min-max, and how many folds reached it), and the best mean."""
    models: Dict[str, List[str]] = {}
    for name in records:
        if name in spi:
            models.setdefault(model_of(name), []).append(name)
    lines = ['| CPU hours | ' + ' | '.join(models) + ' | best (mean) |',
             '|---' * (len(models) + 2) + '|']
    for hours in budgets:
        cells, means = [], {}
        for model, names in models.items():
            values = [v for v in (budget_cell(records[n], spi[n], hours)[1]
                                  for n in names) if v is not None]
            if not values:
                cells.append('not reached')
                continue
            means[model] = statistics.mean(values)
            cells.append(f'{means[model]:.3f} ({min(values):.3f}-'
                         f'{max(values):.3f}, {len(values)}/{len(names)})')
        complete = {m: v for m, v in means.items()
                    if all(budget_cell(records[n], spi[n], hours)[1]
                           is not None for n in models[m])}
        best = max(complete, key=complete.get) if complete else '-'
        lines.append(f'| {hours:g} | ' + ' | '.join(cells) + f' | {best} |')
    return ('Mean segm mAP over the folds (min-max, folds that reached the '
            'budget); best among the models with every fold there:\n\n'
            + '\n'.join(lines) + '\n')


def plot(records: Dict[str, dict], spi: Dict[str, float], path: str,
         title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = 2 if spi else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4.5),
                             squeeze=False)
    for name, rec in records.items():
        curve = rec['curve']
        its = [p['iter'] for p in curve]
        segm = [p['segm_mAP'] for p in curve]
        axes[0][0].plot(its, segm, marker='o', label=name)
        if name in spi:
            axes[0][1].plot([i * spi[name] / 3600 for i in its], segm,
                            marker='o', label=name)
    axes[0][0].set_xlabel('iterations')
    if spi:
        axes[0][1].set_xlabel('CPU hours (iterations x clean s/iter)')
    for ax in axes[0]:
        ax.set_ylabel('val segm mAP')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


if __name__ == '__main__':
    main()
