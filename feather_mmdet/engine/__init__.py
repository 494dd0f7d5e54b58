from .checkpoint import (SAFE_CHECKPOINT_GLOBALS, TRUSTED_ENV,
                         UnsafeCheckpointError, load_from_local_safely)
from .hooks import (CheckpointCompatibilityHook, CheckpointMismatchError,
                    StopOnInvalidLossHook)
from .runner import FeatherRunner

__all__ = [
    'SAFE_CHECKPOINT_GLOBALS', 'TRUSTED_ENV', 'UnsafeCheckpointError',
    'load_from_local_safely', 'CheckpointCompatibilityHook',
    'CheckpointMismatchError', 'StopOnInvalidLossHook', 'FeatherRunner'
]
