# Copyright (c) feather-mmdet contributors. All rights reserved.
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from mmengine.model import ModuleList


@MODELS.register_module()
class DepthwiseFPN(FPN):
    """:class:`FPN` whose 3x3 output convs are depthwise-separable.

    mmdet's FPN has no depthwise switch, and its four 256-channel 3x3 output
    convs run on the largest feature maps (P2 is 1/4 of the input), which
    makes them one of the largest costs of Mask R-CNN. Each of
    ``self.fpn_convs`` (including stride-2 extra convs) becomes depthwise 3x3
    + pointwise 1x1 with the same stride, norm and activation settings;
    laterals (already 1x1), upsampling and the forward are inherited.

    Args:
        **kwargs: Arguments of :class:`mmdet.models.necks.FPN`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fpn_convs = ModuleList([
            DepthwiseSeparableConvModule(
                conv.in_channels,
                conv.out_channels,
                3,
                stride=conv.conv.stride,
                padding=1,
                conv_cfg=kwargs.get('conv_cfg'),
                norm_cfg=kwargs.get('norm_cfg'),
                act_cfg=kwargs.get('act_cfg')) for conv in self.fpn_convs
        ])
