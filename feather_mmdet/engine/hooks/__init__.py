from .checkpoint_compat_hook import (CheckpointCompatibilityHook,
                                     CheckpointMismatchError,
                                     compare_state_dicts)
from .invalid_loss_hook import StopOnInvalidLossHook
from .random_state_hook import ResumeRandomStateHook

__all__ = [
    'CheckpointCompatibilityHook', 'CheckpointMismatchError',
    'compare_state_dicts', 'StopOnInvalidLossHook', 'ResumeRandomStateHook'
]
