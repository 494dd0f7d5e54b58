import pytest
import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.backbones import ResNet
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from feather_mmdet.models import (DepthwiseBasicBlock, DepthwiseBottleneck,
                                  DepthwiseResNet)


def _stage_convs(backbone, stage):
    return [
        m for m in getattr(backbone, f'layer{stage + 1}').modules()
        if isinstance(m, nn.Conv2d)
    ]


@pytest.mark.parametrize('depth,channels', [(18, (64, 128, 256, 512)),
                                            (50, (256, 512, 1024, 2048))])
def test_output_shapes(depth, channels):
    model = DepthwiseResNet(depth)
    model.init_weights()
    outs = model(torch.rand(2, 3, 64, 96))
    assert [o.shape[1] for o in outs] == list(channels)
    assert [tuple(o.shape[2:]) for o in outs] == [(16, 24), (8, 12), (4, 6),
                                                  (2, 3)]


@pytest.mark.parametrize('depth', [18, 50])
def test_every_3x3_is_depthwise_then_pointwise(depth):
    model = DepthwiseResNet(depth)
    for stage in range(4):
        convs = _stage_convs(model, stage)
        spatial = [c for c in convs if c.kernel_size != (1, 1)]
        assert spatial, 'stage has no spatial conv at all'
        for conv in spatial:
            assert conv.groups == conv.in_channels == conv.out_channels
    for block in model.modules():
        if isinstance(block, (DepthwiseBasicBlock, DepthwiseBottleneck)):
            replaced = [block.conv2]
            if isinstance(block, DepthwiseBasicBlock):
                replaced.append(block.conv1)
            for conv in replaced:
                assert isinstance(conv, DepthwiseSeparableConvModule)
                pw = conv.pointwise_conv.conv
                assert pw.kernel_size == (1, 1) and pw.groups == 1
                # Pointwise feeds the block's own norm/activation.
                assert not conv.pointwise_conv.with_norm
                assert not conv.pointwise_conv.with_activation


def test_stride_and_dilation_kept():
    model = DepthwiseResNet(
        50, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2), style='caffe')
    dw = model.layer4[0].conv2.depthwise_conv.conv
    assert dw.stride == (1, 1) and dw.dilation == (2, 2)
    assert dw.padding == (2, 2)
    # style='caffe' puts the stride on conv1, not on the depthwise conv.
    assert model.layer2[0].conv2.depthwise_conv.conv.stride == (1, 1)
    assert model.layer2[0].conv1.stride == (2, 2)
    outs = model(torch.rand(1, 3, 64, 64))
    assert outs[3].shape[2:] == outs[2].shape[2:] == (4, 4)


def test_per_stage_switch():
    model = DepthwiseResNet(50, stage_with_depthwise=(False, True, False, True))
    for stage, depthwise in enumerate((False, True, False, True)):
        dense_3x3 = [
            c for c in _stage_convs(model, stage)
            if c.kernel_size == (3, 3) and c.groups == 1
        ]
        assert bool(dense_3x3) is not depthwise
    with pytest.raises(ValueError, match='one bool per stage'):
        DepthwiseResNet(50, stage_with_depthwise=(True, True))
    # None (the default) means every stage, whatever num_stages is.
    model = DepthwiseResNet(18, num_stages=2, strides=(1, 2),
                            dilations=(1, 1), out_indices=(0, 1))
    assert model.stage_with_depthwise == (True, True)


@pytest.mark.parametrize('depth,norm', [(18, 'norm2'), (50, 'norm3')])
def test_zero_init_residual(depth, norm):
    model = DepthwiseResNet(depth)
    model.init_weights()
    blocks = [m for m in model.modules() if hasattr(m, 'zero_init_norm')]
    assert len(blocks) == sum(model.stage_blocks)
    for block in blocks:
        assert torch.all(getattr(block, norm).weight == 0)
    # ...and only when asked for.
    model = DepthwiseResNet(depth, zero_init_residual=False)
    model.init_weights()
    assert torch.all(getattr(model.layer1[0], norm).weight == 1)


def test_frozen_stages_and_norm_eval():
    model = DepthwiseResNet(50, frozen_stages=1, norm_eval=False)
    model.init_weights()
    model.train()
    for m in [model.conv1, model.norm1, model.layer1]:
        assert all(not p.requires_grad for p in m.parameters())
    for m in model.layer1.modules():
        if isinstance(m, _BatchNorm):
            assert not m.training
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert model.layer2[0].conv2.depthwise_conv.bn.training

    model = DepthwiseResNet(50, norm_eval=True)
    model.train()
    assert all(not m.training for m in model.modules()
               if isinstance(m, _BatchNorm))


@pytest.mark.parametrize('depth', [18, 50])
def test_param_reduction_matches_formula(depth):
    dense = sum(p.numel() for p in ResNet(depth).parameters())
    light = sum(p.numel() for p in DepthwiseResNet(depth).parameters())
    # Per replaced conv (p -> p channels): dense 9p^2 becomes depthwise 9p +
    # BN 2p + pointwise p^2. BasicBlock's conv1 maps inplanes -> p.
    expected = 0
    model = ResNet(depth)
    for block in model.modules():
        if type(block).__name__ == 'Bottleneck':
            p = block.planes
            expected += 9 * p * p - (9 * p + 2 * p + p * p)
        elif type(block).__name__ == 'BasicBlock':
            cin, p = block.conv1.in_channels, block.conv1.out_channels
            expected += 9 * cin * p - (9 * cin + 2 * cin + cin * p)
            expected += 9 * p * p - (9 * p + 2 * p + p * p)
    assert dense - light == expected
    if depth == 50:
        assert light / dense <= 0.60


def test_depthwise_stem():
    model = DepthwiseResNet(18, use_depthwise_stem=True)
    assert model.conv1.depthwise_conv.conv.kernel_size == (7, 7)
    assert model.conv1.depthwise_conv.conv.groups == 3
    assert model(torch.rand(1, 3, 64, 64))[0].shape == (1, 64, 16, 16)
    with pytest.raises(ValueError, match='deep_stem'):
        DepthwiseResNet(18, use_depthwise_stem=True, deep_stem=True)


def test_dcn_is_rejected_in_depthwise_stages():
    dcn = dict(type='DCNv2', deform_groups=1, fallback_on_stride=False)
    with pytest.raises(ValueError, match='stage_with_dcn'):
        DepthwiseResNet(
            50, dcn=dcn, stage_with_dcn=(False, False, False, True))
    # DCN stays available where the stage is dense.
    model = DepthwiseResNet(
        50,
        dcn=dcn,
        stage_with_dcn=(False, False, False, True),
        stage_with_depthwise=(True, True, True, False))
    assert type(model.layer4[0].conv2).__name__ == 'ModulatedDeformConv2dPack'


def test_with_cp_and_plugin_after_conv3_forward_backward():
    plugins = [
        dict(
            cfg=dict(type='ContextBlock', ratio=1. / 16),
            stages=(False, True, True, True),
            position='after_conv3')
    ]
    # zero_init_residual=False: a zeroed norm3 would block the gradient.
    model = DepthwiseResNet(
        50, with_cp=True, plugins=plugins, zero_init_residual=False)
    model.init_weights()
    model.train()
    x = torch.rand(1, 3, 64, 64, requires_grad=True)
    sum(o.sum() for o in model(x)).backward()
    dw = model.layer3[0].conv2.depthwise_conv.conv.weight
    assert dw.grad is not None and torch.any(dw.grad != 0)


def test_partial_load_of_dense_checkpoint_is_reported(tmp_path):
    from mmengine.logging import MMLogger

    dense = ResNet(18)
    ckpt = tmp_path / 'resnet18.pth'
    torch.save({'state_dict': dense.state_dict()}, ckpt)
    log_file = tmp_path / 'load.log'
    MMLogger.get_instance('partial-load', log_file=str(log_file))
    model = DepthwiseResNet(
        18, init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    model.init_weights()
    # Weights that exist in both models were loaded...
    assert torch.equal(model.layer1[0].norm1.weight, dense.layer1[0].norm1.weight)
    assert torch.equal(model.conv1.weight, dense.conv1.weight)
    # ...and the log names the ones that were not.
    text = log_file.read_text()
    assert 'layer1.0.conv2.depthwise_conv.conv.weight' in text
    assert 'layer1.0.conv2.weight' in text


@pytest.mark.parametrize('num_stages', [1, 2, 3, 4])
def test_num_stages_and_out_indices_like_resnet(num_stages):
    kw = dict(num_stages=num_stages, strides=(1, 2, 2, 2)[:num_stages],
              dilations=(1, ) * num_stages,
              out_indices=tuple(range(num_stages)))
    model, dense = DepthwiseResNet(18, **kw), ResNet(18, **kw)
    x = torch.rand(1, 3, 64, 64)
    outs, refs = model(x), dense(x)
    assert [o.shape for o in outs] == [r.shape for r in refs]
    assert len(model.res_layers) == num_stages


def test_c4_backbone():
    """Faster R-CNN C4's backbone: three stages, one output."""
    kw = dict(num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
              out_indices=(2, ), style='caffe')
    model = DepthwiseResNet(50, **kw)
    (out, ) = model(torch.rand(1, 3, 64, 64))
    assert out.shape == (1, 1024, 4, 4)
    assert isinstance(model.layer3[0].conv2, DepthwiseSeparableConvModule)


def test_invalid_stages_fail_in_mmdets_check():
    """The depthwise switches are read only after mmdet validated
    num_stages, so a wrong value fails with mmdet's assertion rather than an
    IndexError of ours."""
    with pytest.raises(AssertionError):
        DepthwiseResNet(50, num_stages=5)
    with pytest.raises(AssertionError):  # strides do not match num_stages
        DepthwiseResNet(50, num_stages=3)


def test_positional_arguments_like_resnet():
    # depth, in_channels, stem_channels, base_channels, num_stages
    model = DepthwiseResNet(18, 1, 32, 16, 4)
    assert model.conv1.in_channels == 1 and model.conv1.out_channels == 32
    assert model.layer1[0].conv2.pointwise_conv.conv.out_channels == 16
    assert model(torch.rand(1, 1, 64, 64))[3].shape[1] == 128


def test_misspelt_argument_suggests_the_right_one():
    with pytest.raises(TypeError, match="did you mean 'stage_with_depthwise'"):
        DepthwiseResNet(50, stage_with_depthwize=(True, ) * 4)
    with pytest.raises(TypeError, match="did you mean 'frozen_stages'"):
        DepthwiseResNet(50, frozen_stage=1)


@pytest.mark.parametrize('deep_stem,avg_down', [(True, False), (False, True),
                                                (True, True)])
def test_deep_stem_and_avg_down_with_depthwise_stages(deep_stem, avg_down):
    model = DepthwiseResNet(50, deep_stem=deep_stem, avg_down=avg_down)
    model.init_weights()
    assert hasattr(model, 'stem') is deep_stem
    if avg_down:
        assert isinstance(model.layer2[0].downsample[0], nn.AvgPool2d)
    assert isinstance(model.layer2[0].conv2, DepthwiseSeparableConvModule)
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [256, 512, 1024, 2048]


def test_plugin_after_depthwise_conv2():
    plugins = [
        dict(cfg=dict(type='ContextBlock', ratio=1. / 4),
             stages=(False, True, False, False), position='after_conv2')
    ]
    model = DepthwiseResNet(50, plugins=plugins)
    block = model.layer2[0]
    assert isinstance(block.conv2, DepthwiseSeparableConvModule)
    plugin = getattr(block, block.after_conv2_plugin_names[0])
    assert plugin.in_channels == block.planes
    assert model(torch.rand(1, 3, 64, 64))[1].shape == (1, 512, 8, 8)


@pytest.mark.parametrize('depth', [18, 50])
def test_group_norm_backbone(depth):
    norm_cfg = dict(type='GN', num_groups=16, requires_grad=True)
    model = DepthwiseResNet(depth, norm_cfg=norm_cfg)
    model.init_weights()
    block = model.layer1[0]
    assert isinstance(block.conv2.depthwise_conv.norm, nn.GroupNorm)
    last = block.norm3 if depth == 50 else block.norm2
    assert isinstance(last, nn.GroupNorm) and torch.all(last.weight == 0)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    model.train()
    sum(o.sum() for o in model(torch.rand(2, 3, 64, 64))).backward()
