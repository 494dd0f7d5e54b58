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
        self._pending: Optional[torch.Tensor] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the torch RNG state in the checkpoint."""
        checkpoint['torch_rng_state'] = torch.get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the state for later; only a resume restores it."""
        if runner.cfg.get('resume', False):
            self._pending = checkpoint.get('torch_rng_state')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Restore the stored state before the first resumed iteration."""
        if self._pending is not None:
            torch.set_rng_state(self._pending)
            self._pending = None
