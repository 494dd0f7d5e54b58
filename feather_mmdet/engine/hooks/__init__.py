from .checkpoint_compat_hook import (CheckpointCompatibilityHook,
                                     CheckpointMismatchError,
                                     compare_state_dicts)
from .cpu_speed_hook import CPUSpeedHook
from .invalid_loss_hook import StopOnInvalidLossHook
from .random_state_hook import ResumeRandomStateHook
from .training_curve_hook import TrainingCurveHook, plateaued

__all__ = [
    'CheckpointCompatibilityHook', 'CheckpointMismatchError',
    'compare_state_dicts', 'StopOnInvalidLossHook', 'ResumeRandomStateHook',
    'TrainingCurveHook', 'plateaued', 'CPUSpeedHook'
]
