import pytest
import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.structures.bbox import bbox2roi
from mmdet.testing import demo_mm_proposals, demo_mm_sampling_results
from mmdet.testing import demo_mm_inputs
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from feather_mmdet.models import DepthwiseFCNMaskHead


def _conv_params(head):
    return sum(p.numel() for p in head.convs.parameters())


def test_convs_are_depthwise_separable():
    head = DepthwiseFCNMaskHead(num_convs=4, num_classes=80)
    assert len(head.convs) == 4
    for conv in head.convs:
        assert isinstance(conv, DepthwiseSeparableConvModule)
        dw = conv.depthwise_conv.conv
        assert dw.kernel_size == (3, 3) and dw.groups == dw.in_channels == 256
        assert conv.pointwise_conv.conv.kernel_size == (1, 1)
    ratio = _conv_params(head) / _conv_params(FCNMaskHead(num_classes=80))
    assert ratio <= 0.25


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


def test_loss_matches_parent_targets():
    s = 64
    head = DepthwiseFCNMaskHead(
        num_convs=1, in_channels=8, conv_out_channels=8, num_classes=4)
    packed = demo_mm_inputs(
        batch_size=1, image_shapes=[(3, s, s)], num_items=[3], num_classes=4,
        with_mask=True)
    gt = [packed['data_samples'][0].gt_instances]
    metas = [packed['data_samples'][0].metainfo]
    proposals = demo_mm_proposals([(3, s, s)], 20)
    sampling = demo_mm_sampling_results(proposals, gt)
    rois = bbox2roi([res.pos_priors for res in sampling])
    mask_preds = head(torch.rand(rois.shape[0], 8, 14, 14))
    out = head.loss_and_target(
        mask_preds, sampling, gt, ConfigDict(mask_size=28))
    loss = out['loss_mask']['loss_mask']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert head.convs[0].depthwise_conv.conv.weight.grad.abs().sum() > 0
    assert len(metas) == 1


@pytest.mark.parametrize('num_samples', [0, 1, 5])
def test_predict_by_feat(num_samples):
    num_classes, s = 6, 96
    head = DepthwiseFCNMaskHead(
        num_convs=1, in_channels=1, conv_out_channels=1,
        num_classes=num_classes)
    meta = dict(img_shape=(s, s, 3), ori_shape=(s, s, 3), scale_factor=(1, 1))
    result = InstanceData(metainfo=meta)
    result.bboxes = torch.rand(num_samples, 4) * s / 2 + torch.tensor(
        [0, 0, s / 2, s / 2])
    result.labels = torch.randint(0, num_classes, (num_samples, ))
    result.scores = torch.rand(num_samples)
    mask_preds = (torch.rand(num_samples, num_classes, 28, 28), )
    results = head.predict_by_feat(
        mask_preds=mask_preds,
        results_list=[result],
        batch_img_metas=[meta],
        rcnn_test_cfg=ConfigDict(mask_thr_binary=0.5))
    assert results[0].masks.shape == (num_samples, s, s)
    assert results[0].masks.dtype == torch.bool
