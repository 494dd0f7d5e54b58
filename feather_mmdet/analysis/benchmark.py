# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Measure params, FLOPs, CPU latency per component and peak memory of a
detector config with random weights and no dataset (``tools/benchmark.py``).

Work per image is fixed whatever the random weights predict: the config's
proposal count, score threshold 0 and 100 output masks.
"""
import resource
import statistics
import time
from contextlib import contextmanager
from functools import partial
from typing import (Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from torch import nn

from ..utils.config import load_config
from ..apis.cpu_inference import optimize_for_cpu_inference
from ..utils.cpu import cpu_info, tune_cpu_allocator

COMPONENTS = ('backbone', 'neck', 'rpn_head', 'roi_head', 'bbox_head')


def load_benchmark_config(config: str) -> Config:
    """Load a config (``mmdet::`` names too) and fix the work per image:
    score threshold 0, 100 outputs, inputs padded to a multiple of 32."""
    cfg = load_config(config)
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


@contextmanager
def _time_components(model: nn.Module) -> Iterator[Dict[str, List[float]]]:
    """Wrap the stages of ``predict`` to record their wall time; the
    original methods are put back on exit."""
    times: Dict[str, List[float]] = {}
    wrapped: List[Tuple[nn.Module, str]] = []

    def wrap(owner: nn.Module, attr: str, key: str) -> None:
        fn = getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            times.setdefault(key, []).append(time.perf_counter() - start)
            return out

        setattr(owner, attr, timed)  # an instance attribute shadows it
        wrapped.append((owner, attr))

    for name in ('backbone', 'neck'):
        if hasattr(model, name):
            wrap(getattr(model, name), 'forward', name)
    for name in ('rpn_head', 'roi_head', 'bbox_head'):
        if hasattr(model, name):
            wrap(getattr(model, name), 'predict', name)
    try:
        yield times
    finally:
        for owner, attr in wrapped:
            delattr(owner, attr)


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
    def run() -> int:
        with torch.no_grad():
            results = model.predict(data['inputs'], data['data_samples'])
        return len(results[0].pred_instances)

    with _time_components(model) as times:
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


def _rss_mb() -> float:
    """Current resident memory of this process (Linux)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _onnx_latency(path: str, backend: str, threads: int, hw: Tuple[int,
                                                                   int],
                  warmup: int, runs: int) -> Dict[str, float]:
    """End to end on one blob: graph + mask pasting (feather_runtime)."""
    import numpy as np

    from feather_runtime import Detector
    detector = Detector(path, backend=backend, threads=threads)
    h, w = hw
    blob = np.random.RandomState(0).randn(1, 3, h, w).astype(np.float32)
    info = dict(ori_shape=(h, w), img_shape=(h, w), scale_factor=(1., 1.))

    def run() -> int:
        return len(detector.postprocess(detector.infer(blob), info))

    return measure_latency(run, warmup, runs)


def profile_onnxruntime(path: str, hw: Tuple[int, int],
                        threads: int) -> Dict[str, float]:
    """Milliseconds per operator type for one onnxruntime run (after one
    warm-up), largest first: where the graph's time goes."""
    import json
    import os

    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.enable_profiling = True
    session = ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])
    blob = np.random.RandomState(0).randn(1, 3, *hw).astype(np.float32)
    name = session.get_inputs()[0].name
    session.run(None, {name: blob})
    session.run(None, {name: blob})
    trace = session.end_profiling()
    with open(trace) as f:
        events = json.load(f)
    os.remove(trace)
    runs = [e for e in events if e.get('name') == 'model_run']
    start = runs[-1]['ts'] if runs else 0
    per_op: Dict[str, float] = {}
    for e in events:
        if e.get('cat') == 'Node' and e['ts'] >= start and \
                e['name'].endswith('_kernel_time'):
            op = e['args'].get('op_name', '?')
            per_op[op] = per_op.get(op, 0.0) + e['dur'] / 1000
    return dict(sorted(per_op.items(), key=lambda kv: -kv[1]))


#: Runtimes ``measure_config`` knows, in the order they are measured
#: (``torch-fast-malloc`` last: the allocator setting is process-wide).
#: int8 variants of the exported file (``feather_mmdet.deploy``): name ->
#: ``quantize_int8`` arguments; ``openvino-int8`` is NNCF's PTQ to an IR.
INT8_VARIANTS = {
    'onnxruntime-int8': dict(quant_format='qdq', types='u8s8'),
    'onnxruntime-int8-s8s8': dict(quant_format='qdq', types='s8s8'),
    'onnxruntime-int8-rr': dict(
        quant_format='qdq', types='u8s8', reduce_range=True),
    'onnxruntime-int8-qop': dict(quant_format='qoperator', types='u8s8'),
    'openvino-int8': None,
}
RUNTIMES = ('torch', 'torch-fast', 'onnxruntime', 'openvino',
            *INT8_VARIANTS, 'torch-fast-malloc')


def measure_config(config: str,
                   sizes: Sequence[str],
                   threads: int = 2,
                   warmup: int = 1,
                   runs: int = 3,
                   runtimes: Sequence[str] = RUNTIMES,
                   onnx_dir: Optional[str] = None,
                   calib_images: Sequence[str] = (),
                   profile: bool = False) -> dict:
    """Measure one config in this process.

    Args:
        config (str): Config path or ``mmdet::`` name.
        sizes (Sequence[str]): Input sizes as ``'HxW'``.
        threads (int): Intra-op threads of every runtime.
        warmup (int): Untimed calls before timing.
        runs (int): Timed calls; the median is reported.
        runtimes (Sequence[str]): Subset of :data:`RUNTIMES`: torch eager,
            torch fast path (:func:`optimize_for_cpu_inference`), the
            exported graph on onnxruntime fp32 / OpenVINO fp32 / the int8
            variants of :data:`INT8_VARIANTS`, and the torch fast path with
            :func:`tune_cpu_allocator`.
        onnx_dir (str, optional): Where exported files are cached (one per
            config name and size); required for the ONNX runtimes.
        calib_images (Sequence[str]): Calibration images for int8.
        profile (bool): Add an onnxruntime per-operator profile.

    Returns:
        dict: JSON-able ``params``, ``proposals``, per size ``flops``,
        ``latency`` per runtime (and for the exported ones ``file_mb``, and
        ``convs``: int8 and float convs in the runtime's optimised graph,
        :func:`~feather_mmdet.deploy.count_int8_convs`),
        ``rss_mb`` after each runtime, ``peak_mem_mb`` and ``cpu``
        (:func:`~feather_mmdet.utils.cpu.cpu_info`).
    """
    unknown = set(runtimes) - set(RUNTIMES)
    if unknown:
        raise ValueError(f'unknown runtimes {sorted(unknown)}; choose from '
                         f'{RUNTIMES}')
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
        sizes={},
        rss_mb={},
        cpu=cpu_info())
    res['params'].update({k: counts[k] for k in COMPONENTS if k in counts})
    inputs = {}
    for size in sizes:
        h, w = map(int, size.split('x'))
        inputs[size] = dummy_inputs(model, h, w)
        res['sizes'][size] = dict(
            flops=_flops(model, inputs[size]), latency={})

    def torch_runtime(name: str) -> None:
        for size in sizes:
            res['sizes'][size]['latency'][name] = _torch_latency(
                model, inputs[size], warmup, runs)
        res['rss_mb'][name] = _rss_mb()

    if 'torch' in runtimes:
        torch_runtime('torch')
    optimize_for_cpu_inference(model)
    if 'torch-fast' in runtimes:
        torch_runtime('torch-fast')
    onnx_runtimes = [
        r for r in ('onnxruntime', 'openvino', *INT8_VARIANTS)
        if r in runtimes
    ]
    if onnx_runtimes:
        from ..deploy import count_int8_convs
    for size in sizes if onnx_runtimes else ():
        entry = res['sizes'][size]
        hw = tuple(inputs[size]['inputs'].shape[2:])
        files = _exported(cfg, config, onnx_dir, hw, calib_images,
                          [r for r in onnx_runtimes if r in INT8_VARIANTS])
        for name in onnx_runtimes:
            backend = 'openvino' if name.startswith('openvino') \
                else 'onnxruntime'
            entry['latency'][name] = _onnx_latency(files[name], backend,
                                                   threads, hw, warmup, runs)
            res['rss_mb'][name] = _rss_mb()
            if name != 'openvino':
                # convs that run in int8 in the runtime's optimised graph
                entry.setdefault('convs', {})[name] = count_int8_convs(
                    files[name])
            entry.setdefault('file_mb', {})[name] = _file_mb(files[name])
        if profile:
            entry['onnxruntime_profile_ms'] = profile_onnxruntime(
                files['onnxruntime'], hw, threads)
    if 'torch-fast-malloc' in runtimes:
        tune_cpu_allocator()
        torch_runtime('torch-fast-malloc')
    # ru_maxrss is in KiB on Linux.
    res['peak_mem_mb'] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                          rss_before) / 1024
    return res


def _file_mb(path: str) -> float:
    """Size of an exported model (an OpenVINO IR: its weights, the .bin)."""
    import os.path as osp
    return osp.getsize(path[:-4] + '.bin' if path.endswith('.xml') else
                       path) / 2**20


def _exported(cfg: Config, config: str, onnx_dir: Optional[str],
              hw: Tuple[int, int], calib_images: Sequence[str],
              int8_variants: Sequence[str]) -> Dict[str, str]:
    """Export (or reuse) the fp32 file and the asked int8 variants; the
    path per runtime name."""
    import os
    import os.path as osp

    from feather_mmdet.deploy import (export_onnx, quantize_int8,
                                      quantize_int8_openvino)
    if onnx_dir is None:
        raise ValueError('the ONNX runtimes need onnx_dir')
    os.makedirs(onnx_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(config.split('::')[-1]))[0]
    fp32 = osp.join(onnx_dir, f'{stem}_{hw[0]}x{hw[1]}.onnx')
    if not osp.isfile(fp32):
        torch.manual_seed(0)
        export_onnx(cfg, fp32, shape=hw)
    files = dict(onnxruntime=fp32, openvino=fp32)
    for name in int8_variants:
        if not calib_images:
            raise ValueError(f'{name} needs calibration images')
        suffix = name.replace('onnxruntime-', '').replace('openvino-', 'ov-')
        path = fp32.replace('.onnx', f'_{suffix}' + (
            '.xml' if name == 'openvino-int8' else '.onnx'))
        if not osp.isfile(path):
            if name == 'openvino-int8':
                quantize_int8_openvino(fp32, path, calib_images)
            else:
                quantize_int8(fp32, path, calib_images,
                              **INT8_VARIANTS[name])
        files[name] = path
    return files
