# Copyright (c) feather-mmdet contributors. All rights reserved.
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from ...utils.cpu import to_channels_last, tune_cpu_allocator


@HOOKS.register_module()
class CPUSpeedHook(Hook):
    """Faster CPU training without changing what the model computes.

    - ``channels_last``: store the conv weights in NHWC; oneDNN then runs
      every conv, depthwise ones included, in NHWC instead of reordering
      NCHW inputs on each call (depthwise 3x3 forward measured 2.3x faster).
      Outputs equal NCHW's up to float rounding
      (:func:`feather_mmdet.utils.cpu.to_channels_last`).
    - ``tune_allocator``: keep glibc from unmapping large freed buffers
      (:func:`feather_mmdet.utils.cpu.tune_cpu_allocator`; process-wide).
      It speeds up inference at 800x1333, but measured about 2x *slower*
      training of the rice recipe here, so it is off by default.

    Does nothing when the model is on a GPU.

    Args:
        channels_last (bool): Defaults to True.
        tune_allocator (bool): Defaults to False.
    """

    priority = 'VERY_HIGH'  # before anything runs the model

    def __init__(self, channels_last: bool = True,
                 tune_allocator: bool = False) -> None:
        self.channels_last = channels_last
        self.tune_allocator = tune_allocator

    def before_run(self, runner) -> None:
        param = next(runner.model.parameters(), None)
        if param is None or param.device.type != 'cpu':
            return
        if self.tune_allocator:
            tune_cpu_allocator()
        if self.channels_last:
            to_channels_last(runner.model)
