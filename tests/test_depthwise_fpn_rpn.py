"""DepthwiseFPN and DepthwiseRPNHead: drop-ins for mmdet's FPN/RPNHead."""
import pytest
import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.dense_heads import RPNHead
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import ConfigDict

from feather_mmdet.models import DepthwiseFPN, DepthwiseRPNHead
from helpers import params


@pytest.mark.parametrize(
    'extra', [False, True, 'on_input', 'on_lateral', 'on_output'])
def test_depthwise_fpn_all_extra_conv_modes(extra):
    kw = dict(in_channels=[8, 16, 32], out_channels=16, num_outs=5,
              add_extra_convs=extra)
    neck, dense = DepthwiseFPN(**kw), FPN(**kw)
    assert len(neck.fpn_convs) == len(dense.fpn_convs)
    for conv, ref in zip(neck.fpn_convs, dense.fpn_convs):
        assert isinstance(conv, DepthwiseSeparableConvModule)
        dw = conv.depthwise_conv.conv
        # 'on_input' feeds the last backbone level (32 channels) to the
        # first extra conv: the depthwise conv keeps its input width.
        assert dw.groups == dw.in_channels == ref.conv.in_channels
        assert dw.stride == ref.conv.stride
    feats = [torch.rand(1, c, 32 // 2**i, 32 // 2**i)
             for i, c in enumerate((8, 16, 32))]
    outs, refs = neck(feats), dense(feats)
    assert [o.shape for o in outs] == [r.shape for r in refs]
    assert params(neck) < params(dense)


def test_depthwise_fpn_positional_arguments_and_norms():
    neck = DepthwiseFPN([256, 512], 256, 2)
    assert len(neck.fpn_convs) == 2 and neck.num_outs == 2
    neck = DepthwiseFPN([8, 16], 16, 2, norm_cfg=dict(type='BN'),
                        act_cfg=dict(type='ReLU'))
    conv = neck.fpn_convs[0]
    assert conv.depthwise_conv.with_norm and conv.pointwise_conv.with_norm
    assert conv.pointwise_conv.with_activation
    with pytest.raises(TypeError, match="did you mean 'num_outs'"):
        DepthwiseFPN([8, 16], 16, num_out=2)
    assert MODELS.get('DepthwiseFPN') is DepthwiseFPN


def _rpn_kwargs(**kw):
    return dict(
        in_channels=16, feat_channels=16,
        anchor_generator=dict(type='AnchorGenerator', scales=[8],
                              ratios=[0.5, 1.0, 2.0], strides=[4, 8]),
        **kw)


@pytest.mark.parametrize('num_convs', [1, 2])
def test_depthwise_rpn_head(num_convs):
    head = DepthwiseRPNHead(**_rpn_kwargs(num_convs=num_convs))
    dense = RPNHead(**_rpn_kwargs(num_convs=num_convs))
    dw = [m for m in head.rpn_conv.modules() if isinstance(m, torch.nn.Conv2d)
          and m.kernel_size == (3, 3)]
    assert len(dw) == num_convs and all(c.groups == 16 for c in dw)
    feats = [torch.rand(1, 16, 16, 16), torch.rand(1, 16, 8, 8)]
    for (c, r), (dc, dr) in zip(zip(*head(feats)), zip(*dense(feats))):
        assert c.shape == dc.shape and r.shape == dr.shape
    assert params(head) < params(dense)


def test_depthwise_rpn_head_positional_arguments():
    head = DepthwiseRPNHead(16, 1, None, 2, feat_channels=8)
    assert head.num_convs == 2 and head.in_channels == 16
    assert isinstance(head.rpn_conv[0], DepthwiseSeparableConvModule)


@pytest.mark.parametrize('num_gts', [0, 3])
def test_depthwise_rpn_head_loss(num_gts):
    """Empty ground truth: only the objectness loss; otherwise both."""
    s = 128
    train_cfg = ConfigDict(
        assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.3,
                      neg_iou_thr=0.3, min_pos_iou=0.3,
                      ignore_iof_thr=-1),
        sampler=dict(type='RandomSampler', num=64, pos_fraction=0.5,
                     neg_pos_ub=-1, add_gt_as_proposals=False),
        allowed_border=-1, pos_weight=-1, debug=False)
    head = DepthwiseRPNHead(**_rpn_kwargs(train_cfg=train_cfg))
    head.init_weights()
    packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, s, s)],
                            num_items=[num_gts], num_classes=2)
    samples = packed['data_samples']
    for sample in samples:
        sample.gt_instances.labels[:] = 0
        sample.set_metainfo(dict(pad_shape=(s, s)))
    feats = [torch.rand(1, 16, s // 4, s // 4), torch.rand(1, 16, s // 8,
                                                           s // 8)]
    losses = head.loss(feats, samples)
    cls_loss = sum(losses['loss_rpn_cls'])
    box_loss = sum(losses['loss_rpn_bbox'])
    assert cls_loss > 0
    if num_gts == 0:
        assert box_loss == 0
    else:
        assert box_loss > 0
    (cls_loss + box_loss).backward()
    dw = head.rpn_conv.depthwise_conv.conv.weight
    assert dw.grad is not None and dw.grad.abs().sum() > 0
