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
