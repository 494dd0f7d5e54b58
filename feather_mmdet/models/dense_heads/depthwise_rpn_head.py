# Copyright (c) feather-mmdet contributors. All rights reserved.
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.dense_heads import RPNHead
from mmdet.registry import MODELS
from torch import nn


@MODELS.register_module()
class DepthwiseRPNHead(RPNHead):
    """:class:`RPNHead` whose shared 3x3 conv(s) are depthwise-separable.

    The RPN conv runs on every FPN level; mmdet's RPNHead has no depthwise
    switch. Only ``self.rpn_conv`` is rebuilt (depthwise 3x3 + ReLU +
    pointwise 1x1; the inherited forward applies the final ReLU), so anchors,
    losses and proposal decoding stay inherited.

    Args:
        **kwargs: Arguments of :class:`mmdet.models.dense_heads.RPNHead`.
    """

    def _init_layers(self) -> None:
        """Build the inherited layers, then the depthwise shared conv(s)."""
        super()._init_layers()
        convs = [
            DepthwiseSeparableConvModule(
                self.in_channels if i == 0 else self.feat_channels,
                self.feat_channels,
                3,
                padding=1,
                dw_act_cfg=dict(type='ReLU'),
                # The last ReLU is applied by RPNHead.forward_single.
                pw_act_cfg=None if i == self.num_convs - 1 else dict(
                    type='ReLU')) for i in range(self.num_convs)
        ]
        self.rpn_conv = convs[0] if len(convs) == 1 else nn.Sequential(*convs)
