# Copyright (c) feather-mmdet contributors. All rights reserved.
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from mmengine.model import ModuleList

from ..utils import bind_parent_init_args


@MODELS.register_module()
class DepthwiseFPN(FPN):
    """:class:`FPN` whose 3x3 output convs are depthwise-separable.

    mmdet's FPN has no depthwise switch, and its 256-channel 3x3 output convs
    run on the largest feature maps (P2 is 1/4 of the input), which makes
    them one of the largest costs of Mask R-CNN. Each of ``self.fpn_convs``
    (including the stride-2 extra convs of every ``add_extra_convs`` mode)
    becomes depthwise 3x3 + pointwise 1x1 with the stride, norm and
    activation of the conv it replaces; laterals (already 1x1), upsampling
    and the forward are inherited.

    Args:
        *args: Positional arguments of :class:`mmdet.models.necks.FPN`.
        **kwargs: Keyword arguments of :class:`mmdet.models.necks.FPN`.
    """

    def __init__(self, *args, **kwargs) -> None:
        bind_parent_init_args(type(self), FPN, *args, **kwargs)
        super().__init__(*args, **kwargs)
        self.fpn_convs = ModuleList([
            DepthwiseSeparableConvModule(
                conv.in_channels,
                conv.out_channels,
                3,
                stride=conv.conv.stride,
                padding=1,
                conv_cfg=conv.conv_cfg,
                norm_cfg=conv.norm_cfg,
                act_cfg=conv.act_cfg,
                inplace=conv.inplace) for conv in self.fpn_convs
        ])
