# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Data-efficiency study: train models on nested subsets of a training split
(or k folds of a small dataset) with several seeds, evaluate COCO bbox/segm
AP on a fixed split, record every run (``tools/study_data_efficiency.py``).
"""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


@dataclass
class Run:
    """One training run of the study and its outcome."""

    model: str
    dataset: str
    split: str  # 'fixed' or 'fold<k>'
    fraction: float
    train_images: int
    seed: int
    iterations: int
    config: str
    train_seconds: float = 0.0
    bbox_mAP: float = float('nan')
    segm_mAP: float = float('nan')
    checkpoint: str = ''

    @property
    def key(self) -> str:
        # Iterations are part of the identity: a longer schedule is a new
        # run, not one already done.
        return (f'{self.dataset}|{self.split}|{self.model}|'
                f'{self.fraction:g}|{self.seed}|{self.iterations}it')


def nested_subsets(image_ids: Sequence[int], fractions: Sequence[float],
                   seed: int) -> Dict[float, List[int]]:
    """Image ids per fraction; each smaller subset is a prefix of one random
    order (drawn from ``seed``), so it is contained in every larger one."""
    order = np.random.RandomState(seed).permutation(sorted(image_ids))
    return {
        f: sorted(int(i) for i in order[:max(1, round(f * len(order)))])
        for f in fractions
    }


def kfold(image_ids: Sequence[int], k: int) -> List[Dict[str, List[int]]]:
    """``k`` train/val splits of ``image_ids`` (fixed order, every image in
    exactly one val fold)."""
    ids = sorted(image_ids)
    folds = [ids[i::k] for i in range(k)]
    return [
        dict(train=[i for i in ids if i not in set(val)], val=val)
        for val in folds
    ]


def write_subset(coco: dict, image_ids: Sequence[int], path: str) -> str:
    """A COCO json with only ``image_ids`` (and their annotations)."""
    keep = set(image_ids)
    subset = dict(
        coco,
        images=[im for im in coco['images'] if im['id'] in keep],
        annotations=[a for a in coco['annotations']
                     if a['image_id'] in keep])
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(subset, f)
    return path


def study_config(config: str, work_dir: str, train_ann: str, val_ann: str,
                 data_root: str, iterations: int, seed: int) -> Config:
    """The recipe ``config`` trained for ``iterations`` on ``train_ann`` and
    evaluated once, at the end, on ``val_ann`` (absolute paths)."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    for split, ann in (('train', train_ann), ('val', val_ann),
                       ('test', val_ann)):
        dataset = cfg[f'{split}_dataloader'].dataset
        dataset.data_root = data_root
        dataset.ann_file = ann
    cfg.val_evaluator.ann_file = val_ann
    cfg.test_evaluator.ann_file = val_ann
    cfg.train_cfg.max_iters = iterations
    cfg.train_cfg.val_interval = iterations + 1  # evaluated below, once
    for sched in cfg.param_scheduler:
        if sched.get('type') == 'CosineAnnealingLR':
            sched.T_max = sched.end = iterations
        if sched.get('type') == 'LinearLR':
            sched.end = min(sched.end, max(iterations // 2, 1))
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iterations,
        max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, min(10, iterations))
    cfg.visualizer.name = f'study-{work_dir}'
    return cfg


def train_and_evaluate(run: Run, cfg: Config) -> Run:
    """Train, evaluate on the val split, fill in the run's results."""
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    run.train_seconds = round(time.time() - start, 1)
    metrics = runner.val()
    run.bbox_mAP = float(metrics.get('coco/bbox_mAP', float('nan')))
    run.segm_mAP = float(metrics.get('coco/segm_mAP', float('nan')))
    run.checkpoint = osp.join(cfg.work_dir, f'iter_{run.iterations}.pth')
    return run


def load_results(path: str) -> List[dict]:
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return json.load(f)['runs']


def save_results(path: str, runs: List[dict], meta: Optional[dict] = None
                 ) -> None:
    """Write atomically: a crash never leaves half a results file."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(dict(meta=meta or {}, runs=runs), f, indent=1)
    os.replace(tmp, path)


def summarize(runs: List[dict]) -> List[dict]:
    """Mean and std over seeds/folds per dataset, model, schedule and size."""
    groups: Dict[tuple, List[dict]] = {}
    for r in runs:
        groups.setdefault(
            (r['dataset'], r['model'], r['iterations'], r['fraction']),
            []).append(r)
    rows = []
    for (dataset, model, iters, fraction), rs in sorted(groups.items()):
        row = dict(
            dataset=dataset, model=model, fraction=fraction,
            train_images=float(np.mean([r['train_images'] for r in rs])),
            n=len(rs), iterations=iters)
        for key in ('segm_mAP', 'bbox_mAP', 'train_seconds'):
            vals = np.array([r[key] for r in rs], float)
            row[key] = float(vals.mean())
            row[key + '_std'] = float(vals.std(ddof=1)) if len(vals) > 1 \
                else 0.0
        rows.append(row)
    return rows


def paired_differences(runs: List[dict], model: str = 'feather',
                       reference: str = 'baseline') -> List[dict]:
    """``model`` minus ``reference`` segm mAP per dataset and size, paired
    by split, seed and iterations (the same training images and budget),
    mean and std over pairs.

    Pairing removes the subset-to-subset spread that both models share, so
    the std says how stable the difference is, not how hard each subset is.
    """
    def pair(r: dict) -> tuple:
        return (r['dataset'], r['split'], r['fraction'], r['seed'],
                r['iterations'])

    refs = {pair(r): r['segm_mAP'] for r in runs if r['model'] == reference}
    groups: Dict[tuple, List[float]] = {}
    for r in runs:
        if r['model'] == model and pair(r) in refs:
            groups.setdefault((r['dataset'], r['iterations'], r['fraction']),
                              []).append(r['segm_mAP'] - refs[pair(r)])
    return [
        dict(dataset=dataset, fraction=fraction, iterations=iters, n=len(d),
             mean=float(np.mean(d)),
             std=float(np.std(d, ddof=1)) if len(d) > 1 else 0.0,
             wins=int(sum(x > 0 for x in d)))
        for (dataset, iters, fraction), d in sorted(groups.items())
    ]


def differences_markdown(diffs: List[dict], model: str = 'feather',
                         reference: str = 'baseline') -> str:
    head = (f'| dataset | train fraction | iterations | pairs | {model} - '
            f'{reference} segm mAP | {model} ahead |\n'
            '|---|---|---|---|---|---|\n')
    return head + '\n'.join(
        f'| {d["dataset"]} | {d["fraction"]:.0%} | {d["iterations"]} | '
        f'{d["n"]} | '
        f'{d["mean"]:+.3f} ± {d["std"]:.3f} | {d["wins"]} of {d["n"]} |'
        for d in diffs) + '\n'


def to_markdown(rows: List[dict]) -> str:
    head = ('| dataset | model | train images | runs | iterations | '
            'segm mAP | bbox mAP | train s |\n|---|---|---|---|---|---|---|'
            '---|\n')
    return head + '\n'.join(
        f'| {r["dataset"]} | {r["model"]} | {r["train_images"]:.0f} '
        f'({r["fraction"]:.0%}) | {r["n"]} | {r["iterations"]} | '
        f'{r["segm_mAP"]:.3f} ± {r["segm_mAP_std"]:.3f} | '
        f'{r["bbox_mAP"]:.3f} ± {r["bbox_mAP_std"]:.3f} | '
        f'{r["train_seconds"]:.0f} ± {r["train_seconds_std"]:.0f} |'
        for r in rows) + '\n'


def plot(rows: List[dict], path: str) -> None:
    """Per dataset: segm AP vs train images, and segm AP vs train time."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    datasets = sorted({r['dataset'] for r in rows})
    fig, axes = plt.subplots(
        len(datasets), 2, figsize=(12, 4.5 * len(datasets)), squeeze=False)
    for ax_row, dataset in zip(axes, datasets):
        # One line per model and schedule: runs of different lengths are
        # different curves.
        for model, iters in sorted({(r['model'], r['iterations'])
                                    for r in rows
                                    if r['dataset'] == dataset}):
            rs = sorted((r for r in rows if r['dataset'] == dataset
                         and r['model'] == model and r['iterations'] == iters),
                        key=lambda r: r['train_images'])
            for ax, x, xerr in ((ax_row[0], 'train_images', None),
                                (ax_row[1], 'train_seconds',
                                 'train_seconds_std')):
                ax.errorbar([r[x] for r in rs], [r['segm_mAP'] for r in rs],
                            yerr=[r['segm_mAP_std'] for r in rs],
                            xerr=[r[xerr] for r in rs] if xerr else None,
                            marker='o', capsize=3,
                            label=f'{model} ({iters} it)')
        ax_row[0].set_xlabel('train images')
        ax_row[1].set_xlabel('train wall time per run (s)')
        for ax in ax_row:
            ax.set_ylabel('val segm mAP')
            ax.set_title(dataset)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
