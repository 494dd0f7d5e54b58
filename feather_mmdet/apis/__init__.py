from .cpu_inference import (fuse_depthwise_block_norms,
                            optimize_for_cpu_inference, tune_cpu_allocator)
from .inference import run_inference

__all__ = [
    'fuse_depthwise_block_norms', 'optimize_for_cpu_inference',
    'run_inference', 'tune_cpu_allocator'
]
