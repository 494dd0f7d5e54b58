# Copyright (c) feather-mmdet contributors. All rights reserved.
"""A compact copy of the last checkpoint that outlives the work dir.

mmengine resumes from the work dir, which lives on one machine. A long run
that spans machines (a fresh checkout each time) needs its state somewhere
that travels, e.g. committed next to the run's results. The copy holds all
that ``--resume`` reads; the optimizer's per-parameter float state (AdamW's
moments) is stored in bfloat16, which keeps their range and costs 2 bytes
instead of 4, while the weights stay in float32.
"""
import os
import os.path as osp
from typing import Any

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from feather_mmdet.utils.checkpoint import load_from_local_safely

_PACKED_KEY = 'portable_resume'


def _cast_state(obj: Any, src: torch.dtype, dst: torch.dtype) -> Any:
    """Cast the non-scalar ``src`` tensors inside ``obj`` to ``dst``.

    Scalars (AdamW's ``step``) keep their dtype: bfloat16 counts exactly only
    to 256.
    """
    if isinstance(obj, torch.Tensor):
        return obj.to(dst) if obj.dtype == src and obj.dim() > 0 else obj
    if isinstance(obj, dict):
        return {k: _cast_state(v, src, dst) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cast_state(v, src, dst) for v in obj)
    return obj


@HOOKS.register_module()
class PortableResumeHook(Hook):
    """Write a compact copy of every checkpoint to ``out_file``.

    Restore it into a fresh work dir with :func:`restore_portable_checkpoint`
    and resume as usual.

    Args:
        out_file (str): Path of the copy (rewritten at each checkpoint,
            atomically).
    """

    priority = 'LOWEST'  # after the hooks that add their state

    def __init__(self, out_file: str) -> None:
        self.out_file = out_file

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        packed = dict(checkpoint)
        if 'optimizer' in packed:
            packed['optimizer'] = _cast_state(packed['optimizer'],
                                              torch.float32, torch.bfloat16)
        packed['meta'] = dict(packed.get('meta', {}))
        packed['meta'][_PACKED_KEY] = dict(optimizer_state='bfloat16')
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        tmp = self.out_file + '.tmp'
        torch.save(packed, tmp)
        os.replace(tmp, self.out_file)  # never half a file


def restore_portable_checkpoint(copy_file: str, work_dir: str) -> str:
    """Unpack a :class:`PortableResumeHook` copy into ``work_dir`` so that
    mmengine's resume finds it.

    Args:
        copy_file (str): The compact copy.
        work_dir (str): Work dir of the run; gets ``iter_<n>.pth`` and
            ``last_checkpoint``.

    Returns:
        str: Path of the restored checkpoint.
    """
    checkpoint = load_from_local_safely(copy_file, map_location='cpu')
    meta = checkpoint.get('meta', {})
    if _PACKED_KEY not in meta or 'iter' not in meta:
        raise ValueError(
            f'{copy_file!r} is not a portable resume copy (written by '
            'PortableResumeHook); give the copy, or put an mmengine '
            f'checkpoint and its last_checkpoint file into {work_dir!r}.')
    if 'optimizer' in checkpoint:
        checkpoint['optimizer'] = _cast_state(checkpoint['optimizer'],
                                              torch.bfloat16, torch.float32)
    meta = dict(meta)
    del meta[_PACKED_KEY]
    checkpoint['meta'] = meta
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, f'iter_{meta["iter"]}.pth')
    torch.save(checkpoint, path)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(path)
    return path
