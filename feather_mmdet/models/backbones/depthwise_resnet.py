# Copyright (c) feather-mmdet contributors. All rights reserved.
"""ResNet whose 3x3 convolutions are depthwise-separable (Feather Mask R-CNN)."""
from typing import Optional, Sequence

import torch.nn as nn
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.backbones.resnet import BasicBlock, Bottleneck, ResNet
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType

from ..utils import bind_parent_init_args


def make_depthwise_separable_conv(in_channels: int,
                                  out_channels: int,
                                  kernel_size: int = 3,
                                  stride: int = 1,
                                  dilation: int = 1,
                                  conv_cfg: OptConfigType = None,
                                  norm_cfg: ConfigType = dict(type='BN'),
                                  act_cfg: ConfigType = dict(type='ReLU')
                                  ) -> DepthwiseSeparableConvModule:
    """Build a drop-in replacement for a bias-free ``kxk`` conv of a block.

    The result is depthwise ``kxk`` (groups = ``in_channels``, same stride and
    dilation) + norm + activation + pointwise ``1x1`` *without* norm or
    activation: the block that owns it applies its own norm (``norm2``) and
    activation afterwards, exactly as it did after the dense conv.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel size of the depthwise conv. Defaults to 3.
        stride (int): Stride of the depthwise conv. Defaults to 1.
        dilation (int): Dilation of the depthwise conv. Defaults to 1.
        conv_cfg (dict, optional): Conv layer config of both convs.
        norm_cfg (dict): Norm layer config after the depthwise conv.
        act_cfg (dict): Activation config after the depthwise conv.

    Returns:
        DepthwiseSeparableConvModule: Module with ``depthwise_conv`` and
        ``pointwise_conv`` children (``ConvModule`` each).
    """
    return DepthwiseSeparableConvModule(
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=dilation * (kernel_size - 1) // 2,
        dilation=dilation,
        bias=False,
        conv_cfg=conv_cfg,
        dw_norm_cfg=norm_cfg,
        dw_act_cfg=act_cfg,
        # Pointwise output goes to the block's own norm2 + ReLU.
        pw_norm_cfg=None,
        pw_act_cfg=None)


class DepthwiseBasicBlock(BasicBlock):
    """:class:`BasicBlock` with both 3x3 convs depthwise-separable.

    Forward, norms, ``with_cp`` and ``downsample`` are inherited; only
    ``conv1`` and ``conv2`` are rebuilt, so module names stay stable.

    Args:
        use_depthwise (bool): If False the block is a plain ``BasicBlock``,
            so one class serves depthwise and dense stages. Defaults to True.
        **kwargs: Arguments of :class:`BasicBlock`.
    """

    zero_init_norm = 'norm2'

    def __init__(self, *args, use_depthwise: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.use_depthwise = use_depthwise
        if not use_depthwise:
            return
        # BasicBlock keeps neither conv_cfg nor norm_cfg as attributes.
        arguments = bind_parent_init_args(
            type(self), BasicBlock, *args, **kwargs)
        inplanes, planes = self.conv1.in_channels, self.conv1.out_channels
        self.conv1 = make_depthwise_separable_conv(
            inplanes,
            planes,
            stride=self.stride,
            dilation=self.dilation,
            conv_cfg=arguments['conv_cfg'],
            norm_cfg=arguments['norm_cfg'])
        self.conv2 = make_depthwise_separable_conv(
            planes,
            planes,
            conv_cfg=arguments['conv_cfg'],
            norm_cfg=arguments['norm_cfg'])


class DepthwiseBottleneck(Bottleneck):
    """:class:`Bottleneck` whose 3x3 ``conv2`` is depthwise-separable.

    Like mmdet's ResNeXt bottleneck it calls the parent constructor and then
    rebuilds only ``conv2``; ``conv1``/``conv3`` are already pointwise.
    Forward, plugins, ``with_cp`` and ``style`` are inherited.

    Args:
        use_depthwise (bool): If False the block is a plain ``Bottleneck``
            (DCN allowed). Defaults to True.
        **kwargs: Arguments of :class:`Bottleneck`.
    """

    zero_init_norm = 'norm3'

    def __init__(self, *args, use_depthwise: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.use_depthwise = use_depthwise
        if not use_depthwise:
            return
        if self.with_dcn:
            raise ValueError(
                'DCN cannot be combined with a depthwise stage: set '
                '`stage_with_dcn[i]=False` or `stage_with_depthwise[i]=False` '
                'for that stage.')
        self.conv2 = make_depthwise_separable_conv(
            self.planes,
            self.planes,
            stride=self.conv2_stride,
            dilation=self.dilation,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg)


@MODELS.register_module()
class DepthwiseResNet(ResNet):
    """ResNet backbone of Feather Mask R-CNN.

    Every 3x3 conv of the chosen stages becomes depthwise 3x3 (groups =
    channels, same stride and dilation) + norm + activation + pointwise 1x1,
    followed by the block's inherited norm and activation. It accepts exactly
    what mmdet's :class:`ResNet` accepts (positional arguments, any
    ``num_stages``, ``out_indices``, ``deep_stem``, ``avg_down``, plugins,
    norms), and mmdet's own checks run first. Module names (``layer1..4``,
    ``conv2``, ``norm2``) are unchanged so checkpoints and mmdet's tools keep
    working.

    Args:
        *args: Positional arguments of :class:`mmdet.models.ResNet`.
        stage_with_depthwise (Sequence[bool], optional): Which stages use
            depthwise blocks, one bool per stage. Defaults to None (all).
        use_depthwise_stem (bool): Make the 7x7 stem conv depthwise-separable
            (depthwise 7x7 on the input channels + pointwise 1x1). Not
            supported together with ``deep_stem``. Defaults to False.
        **kwargs: Keyword arguments of :class:`mmdet.models.ResNet`.
    """

    arch_settings = {
        18: (DepthwiseBasicBlock, (2, 2, 2, 2)),
        34: (DepthwiseBasicBlock, (3, 4, 6, 3)),
        50: (DepthwiseBottleneck, (3, 4, 6, 3)),
        101: (DepthwiseBottleneck, (3, 4, 23, 3)),
        152: (DepthwiseBottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 *args,
                 stage_with_depthwise: Optional[Sequence[bool]] = None,
                 use_depthwise_stem: bool = False,
                 **kwargs) -> None:
        arguments = bind_parent_init_args(type(self), ResNet, *args, **kwargs)
        # Set before super().__init__(): ResNet builds the stem and stages in
        # its constructor and calls the hooks below from there, after its own
        # argument checks.
        self.stage_with_depthwise = stage_with_depthwise
        self.use_depthwise_stem = use_depthwise_stem
        # mmdet's ResNet picks the zero-init of the last norm with
        # ``block is Bottleneck``, which is False for subclasses; decide it
        # with the same rule (random init and zero_init_residual=True).
        self._zero_init_last_norm = (
            arguments['zero_init_residual'] and arguments['init_cfg'] is None
            and arguments['pretrained'] is None)
        super().__init__(*args, **kwargs)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        """Check the depthwise options, build the stem, and rebuild ``conv1``
        if it should be depthwise.

        Called by :class:`ResNet` after its own argument checks, so errors
        about ``num_stages``/``strides`` come from mmdet first.
        """
        if self.stage_with_depthwise is None:
            self.stage_with_depthwise = (True, ) * self.num_stages
        self.stage_with_depthwise = tuple(self.stage_with_depthwise)
        if len(self.stage_with_depthwise) != self.num_stages:
            raise ValueError(
                f'stage_with_depthwise has {len(self.stage_with_depthwise)} '
                f'entries but the backbone has num_stages={self.num_stages}; '
                'give one bool per stage (or None for all stages).')
        if self.use_depthwise_stem and self.deep_stem:
            raise ValueError('use_depthwise_stem=True is not supported with '
                             'deep_stem=True; disable one of them.')
        super()._make_stem_layer(in_channels, stem_channels)
        if self.use_depthwise_stem:
            self.conv1 = make_depthwise_separable_conv(
                in_channels,
                stem_channels,
                kernel_size=7,
                stride=2,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg)

    def make_res_layer(self, **kwargs) -> nn.Module:
        """Build one stage, switching its blocks to depthwise if requested."""
        stage_idx = len(self.res_layers)  # ResNet appends after each call
        kwargs['use_depthwise'] = self.stage_with_depthwise[stage_idx]
        if kwargs.get('init_cfg') is None and self._zero_init_last_norm:
            kwargs['init_cfg'] = dict(
                type='Constant',
                val=0,
                override=dict(name=kwargs['block'].zero_init_norm))
        return super().make_res_layer(**kwargs)
