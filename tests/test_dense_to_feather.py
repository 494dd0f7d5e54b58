"""Dense -> Feather weight conversion (data-free and calibrated)."""
import subprocess
import sys

import pytest
import torch
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

from feather_mmdet.apis.convert import convert_checkpoint, dense_twin
from feather_mmdet.models import DepthwiseResNet
from feather_mmdet.models.utils import (ConversionError,
                                        convert_dense_state_dict,
                                        load_converted)
from feather_mmdet.models.utils.dense_to_feather import rank1_decompose
from helpers import REPO_ROOT, TINY_CONFIG, tiny_cfg


def test_rank1_constructible_conv_is_exact():
    depthwise = torch.randn(16, 1, 3, 3)
    pointwise = torch.randn(32, 16, 1, 1)
    dense = pointwise[:, :, 0, 0, None, None] * depthwise[:, 0][None]
    d, p, err = rank1_decompose(dense)
    rebuilt = p[:, :, 0, 0, None, None] * d[:, 0][None]
    assert err < 1e-5
    assert torch.allclose(rebuilt, dense, atol=1e-5)
    # A generic dense conv is not rank-1 per channel: the error says so.
    assert rank1_decompose(torch.randn(32, 16, 3, 3))[2] > 0.3


def _tiny_models():
    cfg = Config.fromfile(TINY_CONFIG)
    dense = MODELS.build(dense_twin(cfg).model)
    dense.init_weights()
    feather = MODELS.build(cfg.model)
    feather.init_weights()
    return cfg, dense, feather


def test_random_dense_model_converts_and_loads_strictly():
    _, dense, feather = _tiny_models()
    state, report = convert_dense_state_dict(feather, dense.state_dict())
    assert report.not_mapped == []
    assert report.unused == []  # every dense tensor was used
    # 8 backbone blocks x 2 convs, 2 mask head convs.
    assert len(report.decomposed) == 18
    load_converted(feather, state, report)
    dense_bn = dense.backbone.layer2[0].bn1.weight
    assert torch.equal(feather.backbone.layer2[0].bn1.weight, dense_bn)


def test_block_output_is_preserved_data_free():
    """A dense block whose 3x3 conv is rank-1 per channel converts to a
    depthwise block with (almost) the same output in eval mode."""
    torch.manual_seed(0)
    dense = ResNet(50, num_stages=1, strides=(1, ), dilations=(1, ),
                   out_indices=(0, ), zero_init_residual=False)
    dense.init_weights()
    x = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        for block in dense.layer1:
            w = block.conv2.weight
            d, p, _ = rank1_decompose(w)
            block.conv2.weight.copy_(p[:, :, 0, 0, None, None] * d[:, 0][None])
        for m in dense.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.bias.uniform_(-0.5, 0.5)
                m.momentum = None  # running stats = the data's, as trained
                m.reset_running_stats()
        dense.train()
        dense(x)
    feather = DepthwiseResNet(50, num_stages=1, strides=(1, ),
                              dilations=(1, ), out_indices=(0, ))
    state, report = convert_dense_state_dict(feather, dense.state_dict(),
                                             is_backbone=True)
    load_converted(feather, state, report)
    dense.eval(), feather.eval()
    with torch.no_grad():
        ref, out = dense(x)[0], feather(x)[0]
    assert (out - ref).norm() / ref.norm() < 0.02


def test_initializer_from_config_and_torchvision_names(tmp_path):
    dense = ResNet(18)
    dense.init_weights()
    state = dict(dense.state_dict(), **{'fc.weight': torch.zeros(10, 512),
                                        'fc.bias': torch.zeros(10)})
    path = tmp_path / 'resnet18_torchvision.pth'
    torch.save(state, path)  # a bare state dict, torchvision naming
    model = DepthwiseResNet(18, init_cfg=dict(type='DenseToFeather',
                                              checkpoint=str(path)))
    model.init_weights()
    assert torch.equal(model.layer3[1].bn2.weight, dense.layer3[1].bn2.weight)
    assert torch.equal(model.conv1.weight, dense.conv1.weight)
    dw = model.layer1[0].conv2.depthwise_conv.conv.weight
    d, _, _ = rank1_decompose(dense.layer1[0].conv2.weight)
    assert torch.allclose(dw, d)


def test_detector_initializer_overrides_children_init(tmp_path):
    cfg, dense, _ = _tiny_models()
    path = tmp_path / 'dense.pth'
    torch.save({'state_dict': dense.state_dict()}, path)
    cfg.model.init_cfg = dict(type='DenseToFeather', checkpoint=str(path),
                              max_not_mapped=0)
    feather = MODELS.build(cfg.model)
    feather.init_weights()
    # Children's own init (e.g. zero-init of the last norm) did not win.
    assert torch.equal(feather.backbone.layer1[0].bn2.weight,
                       dense.backbone.layer1[0].bn2.weight)
    assert torch.equal(feather.roi_head.bbox_head.fc_cls.weight,
                       dense.roi_head.bbox_head.fc_cls.weight)


def test_wrong_architecture_and_missing_file(tmp_path):
    cfg, _, _ = _tiny_models()
    other = dense_twin(Config.fromfile(TINY_CONFIG))
    other.model.neck.out_channels = 64  # another architecture
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': MODELS.build(other.model).state_dict()}, path)
    cfg.model.init_cfg = dict(type='DenseToFeather', checkpoint=str(path),
                              max_not_mapped=0)
    with pytest.raises(ConversionError, match='another architecture'):
        MODELS.build(cfg.model).init_weights()
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        convert_checkpoint(str(tmp_path / 'nope.pth'),
                           Config.fromfile(TINY_CONFIG))


def test_prediction_agreement_compares_two_predictions():
    """Each model's own detections are compared: a model against itself
    agrees exactly, against a changed copy it does not (predict() writes into
    the shared data samples, so the first result must be kept)."""
    import copy

    from feather_mmdet.apis.convert import (calibration_batches,
                                            prediction_agreement)
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg, dense, _ = _tiny_models()
    dense.eval()
    batches = calibration_batches(cfg, dense, 1)
    same = prediction_agreement(dense, dense, batches, score_thr=0.0)
    assert same['dense_detections'] > 0
    assert same['recall'] == 1.0 and same['mean_abs_score_diff'] == 0.0
    other = copy.deepcopy(dense)
    with torch.no_grad():
        other.roi_head.bbox_head.fc_cls.bias[0] += 2.0  # class 0 more likely
    changed = prediction_agreement(dense, other.eval(), batches,
                                   score_thr=0.0)
    assert changed['mean_abs_score_diff'] > 0.01 or changed['recall'] < 1.0


@pytest.mark.slow
def test_converted_trained_dense_model_is_closer_than_random(tmp_path):
    """Train the tiny dense twin a little on the shipped data, convert it
    (data-free and calibrated) and compare FPN features with the dense
    model's: both conversions are far closer than a random Feather."""
    cfg = tiny_cfg(tmp_path / 'dense', max_iters=20, val_cfg=None,
                   val_dataloader=None, val_evaluator=None)
    cfg.model = dense_twin(cfg).model
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = str(tmp_path / 'dense' / 'iter_20.pth')
    feather_cfg = tiny_cfg(tmp_path / 'f')
    free, _, _ = convert_checkpoint(ckpt, feather_cfg)
    calib, report, meas = convert_checkpoint(ckpt, feather_cfg,
                                             calib_images=4)
    layers = meas['layers']
    assert len(layers) == len(report.decomposed)
    assert sum(v['calibrated'] for v in layers.values()) < sum(
        v['data_free'] for v in layers.values())

    dense = runner.model.eval()
    from feather_mmdet.apis.convert import calibration_batches
    batches = calibration_batches(feather_cfg, dense, 2)

    def feature_error(state):
        model = MODELS.build(feather_cfg.model)
        model.init_weights()
        if state is not None:
            model.load_state_dict(state, strict=False)
        model.eval()
        with torch.no_grad():
            errs = []
            for b in batches:
                ref = dense.extract_feat(b['inputs'])
                out = model.extract_feat(b['inputs'])
                errs += [float((o - r).norm() / r.norm())
                         for o, r in zip(out, ref)]
        return sum(errs) / len(errs)

    random_err = feature_error(None)
    free_err, calib_err = feature_error(free), feature_error(calib)
    assert free_err < 0.7 * random_err
    assert calib_err < free_err


@pytest.mark.slow
def test_convert_tool_reports_and_refuses(tmp_path):
    cfg, dense, _ = _tiny_models()
    path = tmp_path / 'dense.pth'
    torch.save({'state_dict': dense.state_dict()}, path)
    out = subprocess.run([
        sys.executable, f'{REPO_ROOT}/tools/convert_dense_to_feather.py',
        str(path), TINY_CONFIG, str(tmp_path / 'feather.pth'), '--report',
        str(tmp_path / 'r.json')
    ], capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert '18 dense convs decomposed' in out.stdout
    ckpt = torch.load(tmp_path / 'feather.pth')
    model = MODELS.build(cfg.model)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    out = subprocess.run([
        sys.executable, f'{REPO_ROOT}/tools/convert_dense_to_feather.py',
        str(tmp_path / 'missing.pth'), TINY_CONFIG, str(tmp_path / 'x.pth')
    ], capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 1 and 'missing.pth' in out.stderr
    assert not (tmp_path / 'x.pth').exists()


@pytest.mark.slow
def test_convert_tool_refuses_other_architecture_and_overwrite(tmp_path):
    tool = f'{REPO_ROOT}/tools/convert_dense_to_feather.py'
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(3, 3)}}, other)
    out = subprocess.run([sys.executable, tool, str(other), TINY_CONFIG,
                          str(tmp_path / 'x.pth')],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 1 and 'not one tensor' in out.stderr
    assert not (tmp_path / 'x.pth').exists()
    before = other.read_bytes()
    out = subprocess.run([sys.executable, tool, str(other), TINY_CONFIG,
                          str(other)],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 2 and 'is the dense checkpoint' in out.stderr
    assert other.read_bytes() == before  # the input is untouched
