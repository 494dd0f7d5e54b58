# Copyright (c) feather-mmdet contributors. All rights reserved.
from typing import Optional

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class ResumeRandomStateHook(Hook):
    """Make ``--resume`` continue exactly like an uninterrupted run.

    mmengine restores weights, optimizer, schedulers and (by re-reading the
    skipped batches) the data order and augmentation randomness, but not the
    torch random state the model consumes (RoI sampling, dropout). This hook
    stores that state in each checkpoint and, when resuming, restores it just
    before the first resumed iteration (after mmengine's batch skipping), so
    with a fixed seed the resumed losses match an uninterrupted run.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the torch RNG states (CPU, and every CUDA device's: on a
        GPU mmdet's samplers draw from the CUDA generator)."""
        checkpoint['torch_rng_state'] = torch.get_rng_state()
        if torch.cuda.is_available():
            checkpoint['torch_cuda_rng_state'] = torch.cuda.get_rng_state_all()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the states for later; only a resume restores them."""
        if runner.cfg.get('resume', False) and 'torch_rng_state' in checkpoint:
            self._pending = dict(
                cpu=checkpoint['torch_rng_state'],
                cuda=checkpoint.get('torch_cuda_rng_state'))

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Restore the stored states before the first resumed iteration."""
        if self._pending is None:
            return
        torch.set_rng_state(self._pending['cpu'])
        cuda = self._pending['cuda']
        if cuda is not None and torch.cuda.is_available() and \
                len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
        self._pending = None
