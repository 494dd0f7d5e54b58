import pytest
import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.structures.bbox import bbox2roi
from mmdet.testing import (demo_mm_inputs, demo_mm_proposals,
                           demo_mm_sampling_results)
from mmengine.config import ConfigDict

from feather_mmdet.models import DepthwiseFCNMaskHead
from helpers import params


def test_convs_are_depthwise_separable():
    head = DepthwiseFCNMaskHead(num_convs=4, num_classes=80)
    assert len(head.convs) == 4
    for conv in head.convs:
        assert isinstance(conv, DepthwiseSeparableConvModule)
        dw = conv.depthwise_conv.conv
        assert dw.kernel_size == (3, 3) and dw.groups == dw.in_channels == 256
        assert conv.pointwise_conv.conv.kernel_size == (1, 1)
    ratio = params(head.convs) / params(FCNMaskHead(num_classes=80).convs)
    assert ratio <= 0.25


def test_positional_arguments_like_fcn_mask_head():
    # num_convs, roi_feat_size, in_channels, conv_kernel_size,
    # conv_out_channels, num_classes
    head = DepthwiseFCNMaskHead(2, 14, 16, 5, 8, 3)
    dense = FCNMaskHead(2, 14, 16, 5, 8, 3)
    assert len(head.convs) == 2
    assert head.convs[0].depthwise_conv.conv.kernel_size == (5, 5)
    assert head.convs[0].depthwise_conv.conv.in_channels == 16
    x = torch.rand(2, 16, 14, 14)
    assert head(x).shape == dense(x).shape == (2, 3, 28, 28)
    with pytest.raises(TypeError, match="did you mean 'num_convs'"):
        DepthwiseFCNMaskHead(num_conv=2)


@pytest.mark.parametrize('class_agnostic,out', [(False, 5), (True, 1)])
def test_forward_shapes(class_agnostic, out):
    head = DepthwiseFCNMaskHead(
        num_convs=2,
        in_channels=16,
        conv_out_channels=16,
        num_classes=5,
        class_agnostic=class_agnostic,
        norm_cfg=dict(type='BN'))
    head.init_weights()
    assert head.convs[0].depthwise_conv.with_norm
    assert head(torch.rand(3, 16, 14, 14)).shape == (3, out, 28, 28)


def test_only_the_convs_differ_from_the_parent():
    """Upsampling and logits are the parent's (same names and shapes); the
    separable convs take the head's norm, and the mask targets the head
    trains on are the parent's."""
    kw = dict(num_convs=2, in_channels=8, conv_out_channels=16, num_classes=4,
              norm_cfg=dict(type='GN', num_groups=4))
    head, dense = DepthwiseFCNMaskHead(**kw), FCNMaskHead(**kw)

    def outside_convs(m):
        return {k: v.shape for k, v in m.state_dict().items()
                if not k.startswith('convs.')}

    assert outside_convs(head) == outside_convs(dense)
    for conv in head.convs:
        for part in (conv.depthwise_conv, conv.pointwise_conv):
            assert isinstance(part.norm, torch.nn.GroupNorm)
    s = 64
    packed = demo_mm_inputs(
        batch_size=1, image_shapes=[(3, s, s)], num_items=[3], num_classes=4,
        with_mask=True)
    gt = [packed['data_samples'][0].gt_instances]
    sampling = demo_mm_sampling_results(demo_mm_proposals([(3, s, s)], 20), gt)
    rois = bbox2roi([res.pos_priors for res in sampling])
    assert rois.shape[0] > 0
    ours = head.loss_and_target(
        head(torch.rand(rois.shape[0], 8, 14, 14)), sampling, gt,
        ConfigDict(mask_size=28))
    loss = ours['loss_mask']['loss_mask']
    assert loss > 0
    loss.backward()  # the gradient reaches the depthwise filters
    assert head.convs[0].depthwise_conv.conv.weight.grad.abs().sum() > 0


def test_in_standard_roi_head_loss():
    """The head trains inside mmdet's StandardRoIHead (RoI extraction,
    sampling, targets) and only its convs are ours."""
    channels, s = 16, 128
    roi_extractor = dict(
        type='SingleRoIExtractor',
        roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=2),
        out_channels=channels, featmap_strides=[4])
    roi_head = StandardRoIHead(
        bbox_roi_extractor=dict(roi_extractor, roi_layer=dict(
            type='RoIAlign', output_size=7, sampling_ratio=2)),
        bbox_head=dict(type='Shared2FCBBoxHead', in_channels=channels,
                       fc_out_channels=32, num_classes=4),
        mask_roi_extractor=roi_extractor,
        mask_head=dict(type='DepthwiseFCNMaskHead', num_convs=2,
                       in_channels=channels, conv_out_channels=channels,
                       num_classes=4),
        train_cfg=ConfigDict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                          neg_iou_thr=0.5, min_pos_iou=0.5),
            sampler=dict(type='RandomSampler', num=32, pos_fraction=0.25,
                         neg_pos_ub=-1, add_gt_as_proposals=True),
            mask_size=28, pos_weight=-1))
    assert isinstance(roi_head.mask_head, DepthwiseFCNMaskHead)
    packed = demo_mm_inputs(
        batch_size=1, image_shapes=[(3, s, s)], num_items=[3], num_classes=4,
        with_mask=True)
    samples = packed['data_samples']
    proposals = demo_mm_proposals([(3, s, s)], 50)
    feats = (torch.rand(1, channels, s // 4, s // 4), )
    losses = roi_head.loss(feats, proposals, samples)
    assert losses['loss_mask'] > 0
    losses['loss_mask'].backward()
    weight = roi_head.mask_head.convs[0].depthwise_conv.conv.weight
    assert weight.grad is not None and weight.grad.abs().sum() > 0
