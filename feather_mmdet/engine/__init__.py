from .checkpoint import (SAFE_CHECKPOINT_GLOBALS, TRUSTED_ENV,
                         UnsafeCheckpointError, load_checkpoint_safely)
from .hooks import StopOnInvalidLossHook

__all__ = [
    'SAFE_CHECKPOINT_GLOBALS', 'TRUSTED_ENV', 'UnsafeCheckpointError',
    'load_checkpoint_safely', 'StopOnInvalidLossHook'
]
