from .checkpoint_compat_hook import (CheckpointCompatibilityHook,
                                     CheckpointMismatchError,
                                     compare_state_dicts)
from .cpu_speed_hook import CPUSpeedHook
from .invalid_loss_hook import StopOnInvalidLossHook
from .portable_resume_hook import (PortableResumeHook,
                                   restore_portable_checkpoint)
from .random_state_hook import ResumeRandomStateHook
from .training_curve_hook import TrainingCurveHook, plateaued

__all__ = [
    'CheckpointCompatibilityHook', 'CheckpointMismatchError',
    'compare_state_dicts', 'StopOnInvalidLossHook', 'ResumeRandomStateHook',
    'TrainingCurveHook', 'plateaued', 'CPUSpeedHook', 'PortableResumeHook',
    'restore_portable_checkpoint'
]
