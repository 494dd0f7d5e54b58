from ..utils.checkpoint import (SAFE_CHECKPOINT_GLOBALS, TRUSTED_ENV,
                                UnsafeCheckpointError,
                                install_safe_checkpoint_loader,
                                load_from_local_safely)
from .hooks import (CheckpointCompatibilityHook, CheckpointMismatchError,
                    CPUSpeedHook, PortableResumeHook, ResumeRandomStateHook,
                    StopOnInvalidLossHook, TrainingCurveHook, plateaued,
                    restore_portable_checkpoint)
from .runner import FeatherRunner, build_runner

__all__ = [
    'SAFE_CHECKPOINT_GLOBALS', 'TRUSTED_ENV', 'UnsafeCheckpointError',
    'load_from_local_safely', 'install_safe_checkpoint_loader',
    'CheckpointCompatibilityHook', 'CheckpointMismatchError', 'CPUSpeedHook',
    'ResumeRandomStateHook', 'StopOnInvalidLossHook', 'TrainingCurveHook',
    'plateaued', 'FeatherRunner', 'build_runner', 'PortableResumeHook',
    'restore_portable_checkpoint'
]
