# Copyright (c) feather-mmdet contributors. All rights reserved.
"""FCN mask head with depthwise-separable convs (Feather Mask R-CNN)."""
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from mmengine.model import ModuleList

from ...utils import bind_parent_init_args


@MODELS.register_module()
class DepthwiseFCNMaskHead(FCNMaskHead):
    """:class:`FCNMaskHead` whose conv stack is depthwise-separable.

    Each ``conv_kernel_size`` conv of ``self.convs`` becomes depthwise kxk +
    [norm] + ReLU + pointwise 1x1 + [norm] + ReLU (mmcv's
    :class:`DepthwiseSeparableConvModule`, with the head's ``conv_cfg`` and
    ``norm_cfg``). Upsampling, logits, loss, targets and mask pasting are
    inherited unchanged, like mmdet's ``SCNetMaskHead``.

    Args:
        *args: Positional arguments of :class:`FCNMaskHead`.
        **kwargs: Keyword arguments of :class:`FCNMaskHead`.
    """

    def __init__(self, *args, **kwargs) -> None:
        bind_parent_init_args(type(self), FCNMaskHead, *args, **kwargs)
        super().__init__(*args, **kwargs)
        self.convs = ModuleList([
            DepthwiseSeparableConvModule(
                self.in_channels if i == 0 else self.conv_out_channels,
                self.conv_out_channels,
                self.conv_kernel_size,
                padding=(self.conv_kernel_size - 1) // 2,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg) for i in range(self.num_convs)
        ])
