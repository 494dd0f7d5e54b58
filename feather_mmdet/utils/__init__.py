from .fast_inference import (fuse_depthwise_block_norms,
                             optimize_for_cpu_inference)
from .preflight import PreflightError, Problem, preflight

__all__ = [
    'Problem', 'PreflightError', 'preflight', 'fuse_depthwise_block_norms',
    'optimize_for_cpu_inference'
]
