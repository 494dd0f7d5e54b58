# Copyright (c) feather-mmdet contributors. All rights reserved.
import json
import os
import os.path as osp
import statistics
import time
from typing import Dict, List, Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook


def plateaued(curve: List[dict], metric: str = 'segm_mAP',
              min_gain: float = 0.05, min_iters: int = 0) -> bool:
    """True when the last third of the run improved ``metric`` by less than
    ``min_gain`` (relative) over the best value of its first two thirds.

    Args:
        curve (list[dict]): Points with ``iter`` and ``metric``, in order.
        metric (str): Key of the metric. Defaults to ``'segm_mAP'``.
        min_gain (float): Relative gain below which the run has plateaued.
        min_iters (int): Never plateaued before this iteration.
    """
    if len(curve) < 3 or curve[-1]['iter'] < min_iters:
        return False
    cut = curve[-1]['iter'] * 2 / 3
    early = [p[metric] for p in curve if p['iter'] <= cut]
    if not early or max(early) <= 0:
        return False  # nothing learned yet: no plateau to speak of
    best = max(p[metric] for p in curve)
    return (best - max(early)) / max(early) < min_gain


@HOOKS.register_module()
class TrainingCurveHook(Hook):
    """Record a learning curve, one point per validation, and optionally stop
    training at its plateau.

    Each point holds the iteration, the validation metrics, the cumulative
    training seconds (validation excluded) and the median seconds of the
    iterations since the previous point (``s_per_iter``: a clean speed only
    when the run had the machine to itself). The curve travels in
    every checkpoint, so ``--resume`` continues it from the checkpoint's
    iteration (points after it, from an interrupted run, are dropped), and
    it is rewritten to ``out_file`` after each validation.

    Args:
        out_file (str): JSON file of the curve, relative to the work dir
            unless absolute. Defaults to ``'curve.json'``.
        metrics (dict): Curve key -> metric name of the evaluator.
            Defaults to COCO bbox and segm mAP.
        stop_at_plateau (bool): Stop when :func:`plateaued` says so.
        min_gain (float): Relative gain of the last third below which the
            run has plateaued. Defaults to 0.05.
        min_iters (int): No plateau stop before this iteration.
        meta (dict, optional): Written next to the curve (what the run is).
    """

    priority = 'LOW'  # after the evaluator has logged its metrics

    def __init__(self,
                 out_file: str = 'curve.json',
                 metrics: Optional[Dict[str, str]] = None,
                 stop_at_plateau: bool = False,
                 min_gain: float = 0.05,
                 min_iters: int = 0,
                 meta: Optional[dict] = None) -> None:
        self.out_file = out_file
        self.metrics = metrics or dict(
            bbox_mAP='coco/bbox_mAP', segm_mAP='coco/segm_mAP')
        self.stop_at_plateau = stop_at_plateau
        self.min_gain = min_gain
        self.min_iters = min_iters
        self.meta = meta or {}
        self.curve: List[dict] = []
        self.train_seconds = 0.0
        self._last: Optional[float] = None
        self._window: List[float] = []
        self.stopped: Optional[str] = None

    def _path(self, runner) -> str:
        return self.out_file if osp.isabs(self.out_file) else \
            osp.join(runner.work_dir, self.out_file)

    def before_train(self, runner) -> None:
        self._last = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.train_seconds += now - self._last
            self._window.append(now - self._last)
        self._last = now

    def before_val(self, runner) -> None:
        self._last = None  # validation time is not training time

    def after_val_epoch(self, runner, metrics=None) -> None:
        if metrics is None or runner.train_loop is None or \
                not runner.train_loop.iter:
            return  # a standalone val/test run: no curve point
        point = dict(iter=runner.iter, train_seconds=round(
            self.train_seconds, 1))
        if self._window:
            point['s_per_iter'] = round(statistics.median(self._window), 3)
            self._window = []
        for key, name in self.metrics.items():
            point[key] = float(metrics.get(name, float('nan')))
        self.curve = [p for p in self.curve if p['iter'] < point['iter']]
        self.curve.append(point)
        self._write(runner)
        if self.stop_at_plateau and plateaued(
                self.curve, 'segm_mAP' if 'segm_mAP' in point else
                next(iter(self.metrics)), self.min_gain, self.min_iters):
            runner.logger.info(
                f'TrainingCurveHook: plateau at iteration {runner.iter} '
                f'(last third gained < {self.min_gain:.0%}); stopping.')
            runner.train_loop.stop_training = True
            self.stopped = 'plateau'
            self._write(runner)

    def after_val(self, runner) -> None:
        self._last = time.perf_counter()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['training_curve'] = dict(
            curve=self.curve, train_seconds=self.train_seconds)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not runner.cfg.get('resume', False):
            return  # load_from starts a new run and a new curve
        meta = checkpoint.get('meta', {})
        state = meta.get('training_curve')
        if state:
            self.curve = list(state['curve'])
            self.train_seconds = float(state['train_seconds'])
        # mmengine saves a checkpoint before the validation of the same
        # iteration, so that point is only in the file.
        path = self._path(runner)
        if osp.isfile(path) and 'iter' in meta:
            with open(path) as f:
                written = json.load(f).get('curve', [])
            known = {p['iter'] for p in self.curve}
            self.curve += [p for p in written
                           if p['iter'] <= meta['iter']
                           and p['iter'] not in known]
            self.curve.sort(key=lambda p: p['iter'])

    def _write(self, runner) -> None:
        path = self._path(runner)
        os.makedirs(osp.dirname(path) or '.', exist_ok=True)
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(
                dict(meta=self.meta, curve=self.curve, stopped=self.stopped),
                f, indent=1)
        os.replace(tmp, path)  # never half a file
