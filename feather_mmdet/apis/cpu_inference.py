# Copyright (c) feather-mmdet contributors. All rights reserved.
"""A faster CPU inference path: BN folding that covers the depthwise blocks,
the channels_last memory layout and, opt-in, an allocator that keeps large
buffers."""
import torch
from mmcv.cnn import DepthwiseSeparableConvModule, fuse_conv_bn
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils import fuse_conv_bn_eval

from ..utils.cpu import to_channels_last, tune_cpu_allocator


def fuse_depthwise_block_norms(model: nn.Module) -> nn.Module:
    """Fold each depthwise block's ``norm2`` (and ``norm1`` of basic blocks,
    and the stem's ``norm1`` of a depthwise stem) into the pointwise conv that
    feeds it.

    mmcv's :func:`fuse_conv_bn` only folds a BN into a ``Conv2d`` that comes
    right before it in the same parent; in a depthwise block the conv before
    ``norm2`` sits inside ``conv2.pointwise_conv``, so mmcv leaves it alone.
    The folded norm becomes ``nn.Identity`` (the name stays, so the inherited
    forward still works). Only for inference (eval mode).

    Args:
        model (nn.Module): Model to modify in place.

    Returns:
        nn.Module: ``model``.
    """
    for block in model.modules():
        # Depthwise blocks, and a DepthwiseResNet with a depthwise stem
        # (``conv1`` -> ``norm1`` of the backbone itself).
        if not (getattr(block, 'use_depthwise', False)
                or getattr(block, 'use_depthwise_stem', False)):
            continue
        for idx in (1, 2):
            conv = getattr(block, f'conv{idx}', None)
            norm_name = getattr(block, f'norm{idx}_name', None)
            if not isinstance(conv, DepthwiseSeparableConvModule) \
                    or norm_name is None:
                continue
            norm = getattr(block, norm_name)
            if not isinstance(norm, _BatchNorm):
                continue  # already fused, or a norm that cannot be folded
            pointwise = conv.pointwise_conv
            pointwise.conv = fuse_conv_bn_eval(pointwise.conv.eval(),
                                               norm.eval())
            setattr(block, norm_name, nn.Identity())
    return model


def optimize_for_cpu_inference(model: nn.Module,
                               fuse: bool = True,
                               channels_last: bool = True,
                               tune_allocator: bool = False) -> nn.Module:
    """Prepare a detector for fast CPU inference, in place.

    Args:
        model (nn.Module): A detector (any mmdet model works; the depthwise
            blocks of this package are fused too).
        fuse (bool): Fold every BN into its conv (depthwise blocks included).
        channels_last (bool): Store conv weights in channels_last (NHWC)
            layout; oneDNN then runs the convs, depthwise ones included, in
            NHWC, which measured faster on CPU.
        tune_allocator (bool): Also call :func:`tune_cpu_allocator`
            (process-wide; keeps freed memory in the process). Off by
            default.

    Returns:
        nn.Module: ``model``, in eval mode. Outputs equal the unmodified
        model's up to float rounding (tested to 1e-4).
    """
    model.eval()
    if fuse:
        fuse_depthwise_block_norms(model)
        fuse_conv_bn(model)
    if channels_last:
        to_channels_last(model)
    if tune_allocator:
        tune_cpu_allocator()
    return model
