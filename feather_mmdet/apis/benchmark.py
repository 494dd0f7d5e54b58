# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Measure params, FLOPs, CPU latency per component and peak memory of a
detector config with random weights and no dataset (``tools/benchmark.py``).

Work per image is fixed whatever the random weights predict: the config's
proposal count, score threshold 0 and 100 output masks.
"""
import resource
import statistics
import time
from functools import partial
from typing import Callable, Dict, List, Sequence

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from mmengine.hub import get_config
from torch import nn

from .cpu_inference import optimize_for_cpu_inference

COMPONENTS = ('backbone', 'neck', 'rpn_head', 'roi_head', 'bbox_head')


def load_benchmark_config(config: str) -> Config:
    """Load a config (``mmdet::`` names too) and fix the work per image:
    score threshold 0, 100 outputs, inputs padded to a multiple of 32."""
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    preprocessor = cfg.model.data_preprocessor
    preprocessor.pad_size_divisor = max(
        preprocessor.get('pad_size_divisor', 1), 32)
    test_cfg = cfg.model.test_cfg
    target = test_cfg.rcnn if 'rcnn' in test_cfg else test_cfg
    target.score_thr = 0.0
    target.max_per_img = 100
    return cfg


def dummy_inputs(model: nn.Module, height: int, width: int) -> dict:
    """One random uint8 image of the given size, preprocessed."""
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(height, width),
            ori_shape=(height, width),
            scale_factor=(1., 1.)))
    img = torch.randint(0, 256, (3, height, width), dtype=torch.uint8)
    return model.data_preprocessor(
        dict(inputs=[img], data_samples=[sample]), False)


def _time_components(model: nn.Module) -> Dict[str, List[float]]:
    """Wrap the stages of ``predict`` to record their wall time."""
    times: Dict[str, List[float]] = {}

    def wrap(owner: nn.Module, attr: str, key: str) -> None:
        fn = getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            times.setdefault(key, []).append(time.perf_counter() - start)
            return out

        setattr(owner, attr, timed)

    for name in ('backbone', 'neck'):
        if hasattr(model, name):
            wrap(getattr(model, name), 'forward', name)
    for name in ('rpn_head', 'roi_head', 'bbox_head'):
        if hasattr(model, name):
            wrap(getattr(model, name), 'predict', name)
    return times


def measure_latency(run: Callable[[], int],
                    warmup: int,
                    runs: int,
                    times: Dict[str, List[float]] = None) -> Dict[str, float]:
    """Median wall time of ``run()`` (returns the number of masks) after
    ``warmup`` calls, plus the median of each timed component."""
    times = {} if times is None else times
    for _ in range(warmup):
        run()
    times.clear()
    total = []
    for _ in range(runs):
        start = time.perf_counter()
        num_masks = run()
        total.append(time.perf_counter() - start)
    out = {'total': statistics.median(total), 'runs': total}
    out.update({k: statistics.median(v) for k, v in times.items()})
    out['num_masks'] = int(num_masks)
    return out


def _torch_latency(model: nn.Module, data: dict, warmup: int,
                   runs: int) -> Dict[str, float]:
    times = _time_components(model)

    def run() -> int:
        with torch.no_grad():
            results = model.predict(data['inputs'], data['data_samples'])
        return len(results[0].pred_instances)

    return measure_latency(run, warmup, runs, times)


def _flops(model: nn.Module, data: dict) -> Dict[str, int]:
    forward = model.forward
    model.forward = partial(forward, data_samples=data['data_samples'])
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(model, inputs=data['inputs'])
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            by_module = analyzer.by_module()
    finally:
        model.forward = forward
    flops = {'model': by_module['']}
    flops.update({k: by_module[k] for k in COMPONENTS if k in by_module})
    return flops


def measure_config(config: str,
                   sizes: Sequence[str],
                   threads: int = 2,
                   warmup: int = 1,
                   runs: int = 3) -> dict:
    """Measure one config in this process.

    Args:
        config (str): Config path or ``mmdet::`` name.
        sizes (Sequence[str]): Input sizes as ``'HxW'``.
        threads (int): torch intra-op threads.
        warmup (int): Untimed calls before timing.
        runs (int): Timed calls; the median is reported.

    Returns:
        dict: JSON-able ``params``, ``proposals``, per size ``flops`` and
        ``latency`` (``torch`` eager and ``torch-fast`` =
        :func:`optimize_for_cpu_inference`), and ``peak_mem_mb``.
    """
    torch.set_num_threads(threads)
    cfg = load_benchmark_config(config)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model = MODELS.build(cfg.model).eval()
    counts = parameter_count(model)
    rpn = cfg.model.test_cfg.get('rpn')
    res = dict(
        config=config,
        params={'model': counts['']},
        proposals=rpn.max_per_img if rpn else None,
        sizes={})
    res['params'].update({k: counts[k] for k in COMPONENTS if k in counts})
    inputs = {}
    for size in sizes:
        h, w = map(int, size.split('x'))
        inputs[size] = dummy_inputs(model, h, w)
        res['sizes'][size] = dict(
            flops=_flops(model, inputs[size]),
            latency=dict(torch=_torch_latency(model, inputs[size], warmup,
                                              runs)))
    optimize_for_cpu_inference(model)
    for size in sizes:
        res['sizes'][size]['latency']['torch-fast'] = _torch_latency(
            model, inputs[size], warmup, runs)
    # ru_maxrss is in KiB on Linux.
    res['peak_mem_mb'] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                          rss_before) / 1024
    return res
