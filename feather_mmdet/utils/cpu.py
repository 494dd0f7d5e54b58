# Copyright (c) feather-mmdet contributors. All rights reserved.
"""CPU speed settings shared by training and inference: the channels_last
layout (made safe for mmcv's RoIAlign) and glibc's allocator thresholds."""
import ctypes

import torch
from torch import nn


def _contiguous_input(module: nn.Module, args: tuple) -> tuple:
    return (args[0].contiguous(), *args[1:])


def to_channels_last(model: nn.Module) -> nn.Module:
    """Store ``model``'s conv weights in channels_last (NHWC), in place.

    oneDNN then runs every conv, depthwise ones included, in NHWC instead of
    reordering NCHW inputs on each call. mmcv's CPU ``RoIAlign`` reads its
    input as contiguous NCHW whatever its strides (measured: RoI losses off
    by 2x otherwise), so each ``RoIAlign`` gets a forward pre-hook that makes
    its input contiguous; calling this twice adds no second hook.

    Returns:
        nn.Module: ``model``.
    """
    from mmcv.ops import RoIAlign
    model.to(memory_format=torch.channels_last)
    for module in model.modules():
        if isinstance(module, RoIAlign) and \
                not getattr(module, '_feather_contiguous', False):
            module.register_forward_pre_hook(_contiguous_input)
            module._feather_contiguous = True
    return model


# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_cpu_allocator(mmap_threshold: int = 4 << 30,
                       trim_threshold: int = 16 << 30) -> bool:
    """Stop glibc malloc from returning large tensors to the OS.

    glibc serves allocations above ~32 MB with ``mmap`` and unmaps them on
    free, so every large conv output at 800x1333 page-faults fresh memory;
    for memory-bound depthwise convs that costs more than the arithmetic
    (measured: one depthwise 3x3 at C=256, 200x336, 117 ms -> ~18 ms). Both
    thresholds must be raised together. The price: freed memory stays with
    the process (its resident size stays near its peak). Process-wide and
    not undone; opt-in through ``optimize_for_cpu_inference(...,
    tune_allocator=True)`` or the ``MALLOC_MMAP_THRESHOLD_`` /
    ``MALLOC_TRIM_THRESHOLD_`` environment variables.

    Returns:
        bool: True if glibc accepted both settings (False elsewhere, e.g.
        musl or macOS, where nothing is changed).
    """
    try:
        libc = ctypes.CDLL('libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(
        mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))


#: Instruction sets that change which kernels oneDNN, onnxruntime and
#: OpenVINO pick (int8 above all: VNNI/AMX run int8 dot products natively).
_ISA_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16',
              'amx_int8', 'asimddp')


def cpu_info() -> dict:
    """The CPU a measurement ran on: model name, logical CPUs this process
    may use, and the instruction sets of :data:`_ISA_FLAGS` it has.

    Speed numbers are only comparable on the same kind of CPU (an int8
    kernel can be 2x faster with VNNI); benchmarks store this next to them.
    Reads ``/proc/cpuinfo`` (Linux); elsewhere only the platform's name.
    When ``ONEDNN_MAX_CPU_ISA`` is set (oneDNN, and with it OpenVINO's
    convolutions, then dispatch no higher than that ISA, e.g. ``AVX2`` to
    emulate a CPU without AVX-512/VNNI), it is kept as ``isa_cap``.
    """
    import os
    import platform
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'model name':
                    model = value.strip()
                elif key in ('flags', 'Features'):
                    flags.update(value.split())
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(
        os, 'sched_getaffinity') else os.cpu_count()
    info = dict(model=model, cpus=cpus,
                isa=[f for f in _ISA_FLAGS if f in flags])
    if os.environ.get('ONEDNN_MAX_CPU_ISA'):
        info['isa_cap'] = os.environ['ONEDNN_MAX_CPU_ISA']
    return info
