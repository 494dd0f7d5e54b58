# Copyright (c) feather-mmdet contributors. All rights reserved.
from typing import Optional

import torch
from mmdet.engine.hooks import CheckInvalidLossHook
from mmdet.registry import HOOKS


@HOOKS.register_module()
class StopOnInvalidLossHook(CheckInvalidLossHook):
    """Stop training with a clear error when a loss becomes non-finite.

    mmdet's :class:`CheckInvalidLossHook` checks only the total loss, every 50
    iterations, with an ``assert`` whose message is empty. This version checks
    every ``interval`` iterations (default 1: the check is a few scalar
    comparisons) and raises :class:`FloatingPointError` naming the iteration
    and every loss term, so the cause (e.g. a too-high learning rate) is
    visible at once and no time is spent training on NaNs. Checkpoints
    already written are left untouched.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """

    def __init__(self, interval: int = 1) -> None:
        super().__init__(interval=interval)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Raise if any loss in ``outputs`` is NaN or infinite."""
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        bad = {
            k: v
            for k, v in outputs.items()
            if torch.is_tensor(v) and not torch.isfinite(v).all()
        }
        if bad:
            terms = ', '.join(
                f'{k}={float(v.detach().float().mean()):.4g}'
                for k, v in outputs.items() if torch.is_tensor(v))
            raise FloatingPointError(
                f'Non-finite loss at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}): {sorted(bad)} in [{terms}]. Training '
                'stopped; checkpoints written so far are kept. Usual fixes: '
                'lower optim_wrapper.optimizer.lr or lengthen the warm-up '
                '(param_scheduler), add optim_wrapper.clip_grad, or check '
                'the annotations with tools/preflight.py.')
