import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.hub import get_config

from helpers import PAPER, build

register_all_modules()


@pytest.fixture(scope='module')
def feather():
    model = build(PAPER)
    model.init_weights()
    return model


def _inputs(with_mask=True):
    return demo_mm_inputs(
        batch_size=2,
        image_shapes=[(3, 128, 160), (3, 96, 128)],
        num_items=[3, 2],
        num_classes=80,
        with_mask=with_mask)


def test_loss_step(feather):
    feather.train()
    batch = feather.data_preprocessor(_inputs(), True)
    losses = feather.forward(**batch, mode='loss')
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
                'loss_mask'):
        assert key in losses
    total, _ = feather.parse_losses(losses)
    assert torch.isfinite(total)
    # zero_init_residual zeroes each block's last norm, so the first step
    # only reaches those norms; after one update the depthwise convs learn.
    optim = torch.optim.SGD(feather.parameters(), lr=0.01)
    total.backward()
    optim.step()
    optim.zero_grad()
    total, _ = feather.parse_losses(feather.forward(**batch, mode='loss'))
    assert torch.isfinite(total)
    total.backward()
    bb_dw = feather.backbone.layer2[0].conv2.depthwise_conv.conv.weight
    head_dw = feather.roi_head.mask_head.convs[0].depthwise_conv.conv.weight
    for weight in (bb_dw, head_dw):
        assert weight.grad is not None and weight.grad.abs().sum() > 0


def test_predict_step(feather):
    feather.eval()
    with torch.no_grad():
        batch = feather.data_preprocessor(_inputs(with_mask=False), False)
        results = feather.forward(**batch, mode='predict')
    assert len(results) == 2
    for sample, (h, w) in zip(results, [(128, 160), (96, 128)]):
        assert isinstance(sample, DetDataSample)
        pred = sample.pred_instances
        assert len(pred) <= 100
        assert pred.masks.shape[1:] == (h, w)
        assert len(pred.bboxes) == len(pred.scores) == len(pred.labels)


@pytest.mark.parametrize('detector', ['faster-rcnn', 'cascade-rcnn'])
@pytest.mark.parametrize('depth', [18, 50])
def test_other_detectors_on_depthwise_resnet(detector, depth):
    """mmdet's Faster and Cascade R-CNN with the depthwise backbone:
    one loss step and a prediction."""
    cfg = get_config(f'mmdet::{detector[:-5]}_rcnn/'
                     f'{detector}_r50_fpn_1x_coco.py')
    cfg.model.backbone.update(type='DepthwiseResNet', depth=depth,
                              init_cfg=None)
    if depth == 18:
        cfg.model.neck.in_channels = [64, 128, 256, 512]
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.backbone).__name__ == 'DepthwiseResNet'
    model.train()
    inputs = demo_mm_inputs(batch_size=1, image_shapes=[(3, 96, 128)],
                            num_items=[2], num_classes=80)
    batch = model.data_preprocessor(inputs, True)
    losses = model.forward(**batch, mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    # layer1 is frozen in these configs (frozen_stages=1).
    pw = model.backbone.layer3[0].conv2.pointwise_conv.conv.weight
    assert pw.grad is not None
    model.eval()
    with torch.no_grad():
        results = model.forward(**model.data_preprocessor(inputs, False),
                                mode='predict')
    assert len(results) == 1 and 'bboxes' in results[0].pred_instances
