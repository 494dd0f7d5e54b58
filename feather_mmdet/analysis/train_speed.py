# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Training speed on CPU: seconds per iteration of a config on its real
training data, and where one iteration's time goes
(``tools/benchmark_training.py``).

Like mmdet's ``mmdet/utils/benchmark.py`` this is measurement code, not a
training entry point: it builds the config's runner without validation or
checkpoints, so nothing is written outside a temporary work dir.
"""
import statistics
import tempfile
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from torch import nn

from ..engine.runner import build_runner

# Sub-modules of a two-stage detector timed by forward hooks, in call order;
# whatever a config lacks is skipped.
PROFILED_MODULES = ('backbone', 'neck', 'rpn_head',
                    'roi_head.bbox_roi_extractor', 'roi_head.bbox_head',
                    'roi_head.mask_roi_extractor', 'roi_head.mask_head')


class _IterTimes(Hook):
    """Records the wall time between consecutive ``after_train_iter`` calls
    (data loading included, as mmengine's IterTimerHook counts it)."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self.stamps: List[float] = []

    def before_train(self, runner) -> None:
        self.stamps = [time.perf_counter()]

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.stamps.append(time.perf_counter())

    @property
    def times(self) -> List[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]


def speed_config(config: Config, iters: int, work_dir: str) -> Config:
    """A copy of ``config`` that only trains ``iters`` iterations: no
    validation, no checkpoints, quiet logging, its own visualizer name."""
    cfg = config.copy()
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.load_from, cfg.resume = None, False
    cfg.visualizer.name = f'train-speed-{time.time_ns()}'
    cfg.log_level = 'WARNING'
    return cfg


def measure_train_speed(config: Config,
                        iters: int = 10,
                        warmup: int = 3) -> Dict[str, object]:
    """Train ``config`` for ``warmup + iters`` iterations on its own data and
    time each one.

    Args:
        config (Config): A training config (``Config.fromfile`` result,
            overrides already merged).
        iters (int): Timed iterations.
        warmup (int): Iterations run first and not counted (allocator and
            oneDNN warm-up, the first batches of the data workers).

    Returns:
        dict: ``times`` (seconds of each timed iteration), ``median``,
        ``threads`` (torch intra-op threads).
    """
    if iters < 1 or warmup < 0:
        raise ValueError(
            f'iters={iters}, warmup={warmup}: need iters >= 1 and '
            'warmup >= 0.')
    with tempfile.TemporaryDirectory(prefix='train-speed-') as work_dir:
        runner = build_runner(speed_config(config, warmup + iters, work_dir))
        timer = _IterTimes()
        runner.register_hook(timer)
        runner.train()
        times = timer.times[warmup:]
    return dict(
        times=times,
        median=float(torch.tensor(times).median()),
        threads=torch.get_num_threads())


@contextmanager
def _forward_timers(model: nn.Module,
                    names: List[str]) -> Iterator[Dict[str, float]]:
    """Accumulate the forward wall time of each named sub-module; the hooks
    are removed on exit, so the model is left as it was."""
    totals: Dict[str, float] = {name: 0.0 for name in names}
    starts: Dict[str, float] = {}
    handles = []
    for name in names:
        module = model.get_submodule(name)

        def pre(mod, args, name=name):
            starts[name] = time.perf_counter()

        def post(mod, args, out, name=name):
            totals[name] += time.perf_counter() - starts.pop(name)

        handles += [module.register_forward_pre_hook(pre),
                    module.register_forward_hook(post)]
    try:
        yield totals
    finally:
        for handle in handles:
            handle.remove()


# Parts whose backward is timed apart (forward order): backward runs in
# phases, the heads down to the neck's outputs, the neck down to the
# backbone's outputs, then the backbone.
BACKWARD_SPLIT = ('backbone', 'neck')


def _cut(value, originals: list, leaves: list):
    """``value`` with each tensor that requires grad replaced by a detached
    leaf of the same values and layout (recorded with its original)."""
    if torch.is_tensor(value):
        if not value.requires_grad:
            return value
        leaf = value.detach().requires_grad_()
        originals.append(value)
        leaves.append(leaf)
        return leaf
    if isinstance(value, (list, tuple)):
        return type(value)(_cut(v, originals, leaves) for v in value)
    return value


@contextmanager
def _output_recorders(model: nn.Module,
                      names: List[str]) -> Iterator[Dict[str, tuple]]:
    """Cut the autograd graph after each named sub-module: its outputs are
    handed on as detached leaves (same values), so backward can run one part
    at a time (:func:`phased_backward`). Yields, per name, the outputs and
    their leaves of the last forward call; hooks removed on exit."""
    outputs: Dict[str, tuple] = {}
    handles = []
    for name in names:
        def post(mod, args, out, name=name):
            originals, leaves = [], []
            cut = _cut(out, originals, leaves)
            outputs[name] = (originals, leaves)
            return cut

        handles.append(model.get_submodule(name).register_forward_hook(post))
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def _accumulate(params: List[nn.Parameter], grads) -> None:
    for param, grad in zip(params, grads):
        if grad is not None:
            param.grad = grad if param.grad is None else param.grad + grad


def phased_backward(loss: torch.Tensor, model: nn.Module, names: List[str],
                    outputs: Dict[str, tuple]) -> Dict[str, float]:
    """``loss.backward()`` one part at a time, each part timed.

    The forward ran with the graph cut after each named part
    (:func:`_output_recorders`). The heads' phase runs from the loss down to
    the last part's output leaves; each part's phase runs from its outputs,
    with the gradients its leaves received, down to the previous part's
    leaves. Every autograd node runs once, as in one ``backward()``, and
    each parameter's ``.grad`` gets the same gradient.

    Args:
        loss (Tensor): The scalar loss.
        model (nn.Module): The model (its parameters get ``.grad``).
        names (list[str]): Sub-modules in forward order, e.g.
            ``['backbone', 'neck']``.
        outputs (dict): What :func:`_output_recorders` yielded.

    Returns:
        dict: seconds of ``backward (heads)`` and ``backward (<name>)``, in
        the order they ran.
    """
    owned, params_of = set(), {}
    for name in names:
        params_of[name] = [p for p in model.get_submodule(name).parameters()
                           if p.requires_grad]
        owned.update(map(id, params_of[name]))
    heads = [p for p in model.parameters()
             if p.requires_grad and id(p) not in owned]
    # Gradients received by each part's output leaves, summed over phases.
    received = {name: [None] * len(outputs[name][1]) for name in names}
    times = {}
    for k in range(len(names), -1, -1):  # heads first, then names[k - 1]
        if k == len(names):
            label, params, targets, grads_in = 'heads', heads, [loss], [None]
        else:
            label, params = names[k], params_of[names[k]]
            pairs = [(t, g) for t, g in zip(outputs[label][0],
                                            received[label])
                     if g is not None]
            targets, grads_in = [t for t, _ in pairs], [g for _, g in pairs]
        below = [(name, j) for name in names[:k]
                 for j in range(len(outputs[name][1]))]
        leaves = [outputs[name][1][j] for name, j in below]
        start = time.perf_counter()
        if targets:
            grads = torch.autograd.grad(targets, params + leaves, grads_in,
                                        allow_unused=True)
            _accumulate(params, grads[:len(params)])
            for (name, j), grad in zip(below, grads[len(params):]):
                if grad is not None:
                    old = received[name][j]
                    received[name][j] = grad if old is None else old + grad
        times[f'backward ({label})'] = time.perf_counter() - start
    return times


def profile_train_iter(config: Config,
                       iters: int = 5,
                       warmup: int = 2) -> Dict[str, float]:
    """Mean seconds per training iteration spent in each part of it.

    Runs the config's own model, optimizer wrapper and training dataloader
    by hand (the same calls as mmengine's ``train_step``), so that data
    loading, the forward pass of each sub-module, the rest of the forward
    (targets, sampling, proposals, losses), backward and the optimizer step
    are timed apart. Backward runs in phases (:func:`phased_backward`):
    ``backward (heads)`` (RPN and RoI heads, losses), ``backward (neck)``,
    ``backward (backbone)``; the gradients are the same as one
    ``backward()``'s.

    Args:
        config (Config): A training config.
        iters (int): Profiled iterations (averaged).
        warmup (int): Iterations run first and not counted.

    Returns:
        dict: seconds per component, plus ``total``; the forward parts sum
        to the forward pass, and all parts but ``total`` sum to ``total``.
    """
    with tempfile.TemporaryDirectory(prefix='train-profile-') as work_dir:
        cfg = speed_config(config, warmup + iters, work_dir)
        runner = build_runner(cfg)
        # Whatever the runner does before its first iteration (hooks that
        # change the model, e.g. the memory layout) happens here too.
        runner.call_hook('before_run')
        model = runner.model
        model.train()
        optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
        loader = iter(runner.build_dataloader(cfg.train_dataloader))
        names = [n for n in PROFILED_MODULES
                 if _has_submodule(model, n)]
        sums: Dict[str, float] = {}
        split = [n for n in BACKWARD_SPLIT if _has_submodule(model, n)]
        for step in range(warmup + iters):
            with _forward_timers(model, names) as fwd, \
                    _output_recorders(model, split) as outputs:
                t0 = time.perf_counter()
                data = next(loader)
                t1 = time.perf_counter()
                data = model.data_preprocessor(data, True)
                losses = model(**data, mode='loss')
                loss, _ = model.parse_losses(losses)
                t2 = time.perf_counter()
                if split:  # fp32 CPU profile: no loss scaling to apply
                    backward = phased_backward(loss, model, split, outputs)
                else:
                    optim_wrapper.backward(loss)
                    backward = dict(backward=0.0)  # filled in below
                t3 = time.perf_counter()
            optim_wrapper.step()
            optim_wrapper.zero_grad()
            t4 = time.perf_counter()
            if step < warmup:
                continue
            parts = dict(data=t1 - t0, **fwd)
            parts['forward (rest)'] = (t2 - t1) - sum(fwd.values())
            # What the phases did not time (their bookkeeping, microseconds;
            # or all of an unsplit backward) goes to the first.
            first = next(iter(backward))
            backward[first] += (t3 - t2) - sum(backward.values())
            parts.update(backward)
            parts.update(optimizer=t4 - t3, total=t4 - t0)
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value
    return {key: value / iters for key, value in sums.items()}


def _has_submodule(model: nn.Module, name: str) -> bool:
    try:
        model.get_submodule(name)
    except AttributeError:
        return False
    return True


def ratio_table(results: Dict[str, List[float]], reference: str) -> str:
    """Markdown table: median s/iter per config, its spread over repeats and
    the per-repeat ratio to ``reference`` (median, min-max)."""
    ref = results[reference]
    lines = ['| config | s/iter (median of repeats) | min-max | '
             f'ratio to {reference} (median, min-max) |',
             '|---|---|---|---|']
    for name, medians in results.items():
        ratios = [m / r for m, r in zip(medians, ref)]
        lines.append(
            f'| {name} | {statistics.median(medians):.3f} | '
            f'{min(medians):.3f}-{max(medians):.3f} | '
            f'{statistics.median(ratios):.3f} '
            f'({min(ratios):.3f}-{max(ratios):.3f}) |')
    return '\n'.join(lines) + '\n'

