# Copyright (c) feather-mmdet contributors. All rights reserved.
"""The shims mmdeploy 1.3.1 (its last release, 2023) needs with torch >= 2.9
on a CPU-only machine. All are scoped to an export call; nothing stays
patched.

If a newer mmdeploy or torch changes either point, :func:`mmdeploy_context`
is where to look; ``tests/test_deploy.py`` exports and checks parity, so a
break shows there first.
"""
import contextlib
import functools
from typing import Iterator

import torch
import torch.onnx.symbolic_opset9 as opset9

#: ONNX TensorProto.INT64
_ONNX_INT64 = 7


def _cast_long(g, input, non_blocking):  # noqa: A002 (torch's signature)
    """``Cast`` to int64: what ``symbolic_opset9._cast_Long`` emitted."""
    return g.op('Cast', input, to_i=_ONNX_INT64)


@contextlib.contextmanager
def mmdeploy_context() -> Iterator[None]:
    """Patch torch for mmdeploy 1.3.1 while exporting.

    Shim 1: torch >= 2.9 defaults ``torch.onnx.export`` to the dynamo
    exporter, which traces into mmcv's C++ RoIAlign and fails; mmdeploy
    relies on the TorchScript exporter, so ``dynamo=False`` is passed.
    Shim 2: mmdeploy's ONNX symbolic of RoIAlign imports
    ``torch.onnx.symbolic_opset9._cast_Long``, which torch removed; an
    equivalent ``Cast`` to int64 is provided.
    Shim 3 (RTMDet-Ins only): mmdeploy's mask decoding calls
    ``MlvlPointGenerator.single_level_grid_priors`` without a device, whose
    default is ``'cuda'``; on a CPU-only torch the priors are made on CPU.
    """
    from mmdet.models.task_modules.prior_generators import \
        MlvlPointGenerator
    export = torch.onnx.export
    had_cast = hasattr(opset9, '_cast_Long')
    grid_priors = MlvlPointGenerator.single_level_grid_priors

    @functools.wraps(grid_priors)
    def cpu_grid_priors(self, featmap_size, level_idx, dtype=torch.float32,
                        device='cuda', with_stride=False):
        if not torch.cuda.is_available():
            device = 'cpu'
        return grid_priors(self, featmap_size, level_idx, dtype, device,
                           with_stride)

    torch.onnx.export = functools.partial(export, dynamo=False)
    MlvlPointGenerator.single_level_grid_priors = cpu_grid_priors
    if not had_cast:
        opset9._cast_Long = _cast_long
    try:
        yield
    finally:
        torch.onnx.export = export
        MlvlPointGenerator.single_level_grid_priors = grid_priors
        if not had_cast:
            del opset9._cast_Long
