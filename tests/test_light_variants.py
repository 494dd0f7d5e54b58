"""The "+fpn/+rpn/full/mobile" modules, the fast CPU inference path and the
benchmark tool."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmdet.models.dense_heads import RPNHead
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config

from conftest import CONFIG_DIR, REPO_ROOT
from feather_mmdet.models import DepthwiseFPN, DepthwiseRPNHead
from feather_mmdet.utils import optimize_for_cpu_inference


def _params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('extra', [False, 'on_output'])
def test_depthwise_fpn(extra):
    kw = dict(in_channels=[8, 16, 32], out_channels=16, num_outs=4,
              add_extra_convs=extra)
    neck, dense = DepthwiseFPN(**kw), FPN(**kw)
    assert len(neck.fpn_convs) == len(dense.fpn_convs)
    for conv, ref in zip(neck.fpn_convs, dense.fpn_convs):
        assert isinstance(conv, DepthwiseSeparableConvModule)
        assert conv.depthwise_conv.conv.groups == 16
        assert conv.depthwise_conv.conv.stride == ref.conv.stride
    feats = [torch.rand(1, c, 32 // 2**i, 32 // 2**i)
             for i, c in enumerate((8, 16, 32))]
    outs, refs = neck(feats), dense(feats)
    assert [o.shape for o in outs] == [r.shape for r in refs]
    assert _params(neck) < _params(dense)
    assert MODELS.get('DepthwiseFPN') is DepthwiseFPN


@pytest.mark.parametrize('num_convs', [1, 2])
def test_depthwise_rpn_head(num_convs):
    kw = dict(in_channels=16, feat_channels=16, num_convs=num_convs,
              anchor_generator=dict(type='AnchorGenerator', scales=[8],
                                    ratios=[0.5, 1.0, 2.0], strides=[4, 8]))
    head, dense = DepthwiseRPNHead(**kw), RPNHead(**kw)
    dw = [m for m in head.rpn_conv.modules() if isinstance(m, torch.nn.Conv2d)
          and m.kernel_size == (3, 3)]
    assert len(dw) == num_convs and all(c.groups == 16 for c in dw)
    feats = [torch.rand(1, 16, 16, 16), torch.rand(1, 16, 8, 8)]
    for (c, r), (dc, dr) in zip(zip(*head(feats)), zip(*dense(feats))):
        assert c.shape == dc.shape and r.shape == dr.shape
    assert _params(head) < _params(dense)
    assert MODELS.get('DepthwiseRPNHead') is DepthwiseRPNHead


def _model(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.mark.parametrize('name', [
    'mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py',
    'mask-rcnn_r50-dws_fpn-dws_rpn-dws_light-box_dws-mask_1x_coco.py',
])
def test_fast_path_matches_plain_model(name):
    model = _model(name)
    # Non-trivial BN statistics, so that a wrong fusion would show.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    model.eval()
    data = model.data_preprocessor(
        demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)],
                       num_items=[1], with_mask=False), False)
    with torch.no_grad():
        plain = model.extract_feat(data['inputs'])
        optimize_for_cpu_inference(model)
        fast = model.extract_feat(data['inputs'])
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert n_bn == 0, 'every BN folded, depthwise blocks included'
    for p, f in zip(plain, fast):
        assert torch.allclose(p, f, atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
    assert results[0].pred_instances.masks.shape[1:] == (128, 160)


def test_benchmark_tool_writes_outputs(tmp_path):
    configs = [
        osp.join(CONFIG_DIR, 'mask-rcnn_r50-scratch_fpn_1x_coco.py'),
        osp.join(CONFIG_DIR, 'mask-rcnn_r50-dws_fpn_dws-mask_1x_coco.py')
    ]
    out = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'benchmark.py'),
         *configs, '--sizes', '64x96', '--runs', '1', '--warmup', '0',
         '--out-dir', str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads((tmp_path / 'results.json').read_text())['results']
    base, feather = (res['mask-rcnn_r50-scratch_fpn_1x_coco'],
                     res['mask-rcnn_r50-dws_fpn_dws-mask_1x_coco'])
    assert feather['params']['backbone'] < base['params']['backbone']
    entry = feather['sizes']['64x96']
    assert entry['flops']['backbone'] < base['sizes']['64x96']['flops'][
        'backbone']
    assert entry['latency']['total'] > 0 and entry['latency_fast']['total'] > 0
    assert entry['latency']['num_masks'] == 100  # fixed work: 100 masks
    table = (tmp_path / 'results.md').read_text()
    assert 'mask-rcnn_r50-dws_fpn_dws-mask_1x_coco' in table and '(1.00x)' in table
    assert (tmp_path / 'benchmark.png').stat().st_size > 10000
