"""ONNX export, the torch-free runtime, parity with PyTorch, int8."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from feather_mmdet.deploy import ExportError, export_onnx, quantize_int8
from feather_mmdet.deploy.export import build_detector
from feather_mmdet.utils import load_config
from helpers import FRUITS, REPO_ROOT, TINY_CONFIG

IMAGES = [osp.join(FRUITS, 'images', f'{i}.jpg') for i in (15, 16)]


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """The tiny Feather config with fixed random weights: checkpoint, fp32
    ONNX file, and the PyTorch model they came from."""
    tmp = tmp_path_factory.mktemp('deploy')
    torch.manual_seed(0)
    cfg = load_config(TINY_CONFIG)
    cfg.model.test_cfg.rcnn.score_thr = 0.05
    model = build_detector(cfg)
    # Spread the random scores and masks so that no two detections tie
    # (ties would make the order, not the model, differ).
    head = model.roi_head
    with torch.no_grad():
        head.bbox_head.fc_cls.weight.normal_(0, 0.3)
        head.bbox_head.fc_reg.weight.normal_(0, 0.01)
        head.mask_head.conv_logits.weight.normal_(0, 0.5)
    ckpt = str(tmp / 'tiny.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    onnx_file = str(tmp / 'tiny.onnx')
    # 120x160 is exactly the resized 800x600 photos: no padded border, in
    # which the graph (mmdeploy clips boxes to the input tensor) and mmdet
    # (clips to the resized image) would differ for boxes reaching into it.
    meta = export_onnx(cfg, onnx_file, checkpoint=ckpt, shape=(120, 160))
    return dict(tmp=tmp, cfg=cfg, ckpt=ckpt, onnx=onnx_file, meta=meta,
                model=model)


def _torch_result(model, detector, img):
    """PyTorch prediction on exactly the runtime's preprocessed input."""
    from mmdet.structures import DetDataSample
    blob, info = detector.preprocess(img)
    h, w = blob.shape[2:]
    sample = DetDataSample(metainfo=dict(
        img_shape=info['img_shape'], ori_shape=info['ori_shape'],
        scale_factor=info['scale_factor'], pad_shape=(h, w),
        batch_input_shape=(h, w)))
    with torch.no_grad():
        pred = model.predict(torch.from_numpy(blob), [sample])[0]
    return pred.pred_instances


def _box_iou(a, b):
    lt, rb = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = np.prod(np.clip(rb - lt, 0, None))
    area = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2])
    return inter / (area - inter)


def _assert_parity(ours, ref, score_thr=0.05):
    keep = ref.scores.numpy() >= score_thr
    ref_boxes = ref.bboxes.numpy()[keep]
    ref_scores, ref_labels = ref.scores.numpy()[keep], ref.labels.numpy()[keep]
    ref_masks = ref.masks.numpy()[keep]
    ours = ours.above(score_thr)
    assert len(ref_scores) > 0, 'nothing to compare'
    assert len(ours) == len(ref_scores)
    # Match each PyTorch detection to the best unmatched one of the same
    # label, then compare box, score and pasted mask.
    free = set(range(len(ours)))
    for box, score, label, mask in zip(ref_boxes, ref_scores, ref_labels,
                                       ref_masks):
        cands = [j for j in free if ours.labels[j] == label]
        assert cands, f'no detection of label {label} left'
        j = max(cands, key=lambda j: _box_iou(ours.bboxes[j], box))
        free.remove(j)
        assert _box_iou(ours.bboxes[j], box) >= 0.99
        assert abs(ours.scores[j] - score) <= 1e-3
        union = np.logical_or(ours.masks[j], mask).sum()
        if union:
            assert np.logical_and(ours.masks[j], mask).sum() / union >= 0.98


def test_graph_has_standard_ops_and_metadata(exported):
    import onnx
    graph = onnx.load(exported['onnx']).graph
    ops = {n.op_type for n in graph.node}
    assert {'RoiAlign', 'NonMaxSuppression', 'TopK'} <= ops
    assert {n.domain for n in graph.node} <= {'', 'ai.onnx'}
    meta = exported['meta']
    assert meta['input_shape'] == [120, 160]
    assert meta['scale'] == [160, 120] and meta['keep_ratio']
    assert meta['classes'] == ['date', 'fig', 'hazelnut']
    assert meta['bgr_to_rgb'] and meta['mask_mode'] == 'roi'


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_parity_with_pytorch(exported, backend):
    if backend == 'openvino':
        pytest.importorskip('openvino')
    from feather_runtime import Detector
    detector = Detector(exported['onnx'], backend=backend)
    for path in IMAGES:
        img = cv2.imread(path)
        _assert_parity(detector(img), _torch_result(exported['model'],
                                                    detector, img))


def test_tiny_line_exports_with_parity(tmp_path):
    """The tiny Feather of the CPU line (depthwise FPN and RPN, light box
    head, 2x128 mask head, 100 proposals) in onnxruntime, against PyTorch.

    It fails with mmdeploy's own post-processing rewrites (one RPN NMS over
    all levels; every class of an RoI given its top class's box), which
    moved 22 of its 50 boxes; ``feather_mmdet.deploy.postprocess`` exports
    mmdet's."""
    from feather_runtime import Detector
    torch.manual_seed(0)
    cfg = load_config(osp.join(
        REPO_ROOT, 'configs', 'feather_mask_rcnn',
        'mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_'
        'scratch-640-1x_coco.py'))
    model = build_detector(cfg)
    head = model.roi_head
    with torch.no_grad():  # spread the scores: no ties between candidates
        head.bbox_head.fc_cls.weight.normal_(0, 0.3)
        head.bbox_head.fc_reg.weight.normal_(0, 0.01)
        head.mask_head.conv_logits.weight.normal_(0, 0.5)
        model.rpn_head.rpn_cls.weight.normal_(0, 0.3)
    ckpt, onnx_file = str(tmp_path / 'tiny.pth'), str(tmp_path / 'tiny.onnx')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    # 480x640: the 800x600 photos resized to the 640 scale, no padding.
    # Photo 16: the uniform table at photo 15's right edge gives proposals
    # of exactly equal score, which torch and onnxruntime order differently.
    export_onnx(cfg, onnx_file, checkpoint=ckpt, shape=(480, 640))
    detector = Detector(onnx_file)
    img = cv2.imread(IMAGES[1])
    _assert_parity(detector(img), _torch_result(model, detector, img))


def test_runtime_imports_neither_torch_nor_mmcv(exported):
    code = ('import sys, cv2\n'
            'from feather_runtime import Detector\n'
            'det = Detector(sys.argv[1])\n'
            'res = det(cv2.imread(sys.argv[2]))\n'
            'assert res.masks.shape[1:] == (600, 800), res.masks.shape\n'
            'bad = [m for m in ("torch", "mmcv", "mmdet", "mmengine")\n'
            '       if m in sys.modules]\n'
            'assert not bad, bad\n'
            'print(len(res))\n')
    out = subprocess.run([sys.executable, '-c', code, exported['onnx'],
                          IMAGES[0]], capture_output=True, text=True,
                         cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) > 0


def test_paste_masks_matches_mmdet():
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import \
        _do_paste_mask

    from feather_runtime import paste_masks
    rng = np.random.RandomState(0)
    masks = rng.rand(5, 28, 28).astype(np.float32)
    boxes = np.array([[3.2, 4.7, 40.1, 30.3], [0, 0, 64, 48],
                      [50.5, 20.2, 63.9, 47.7], [10, 10, 10.4, 30],
                      [-5, -3, 20, 12]], np.float32)
    ref, _ = _do_paste_mask(torch.from_numpy(masks)[:, None],
                            torch.from_numpy(boxes), 48, 64, False)
    ours = paste_masks(masks, boxes, 48, 64, 0.5)
    assert (ours == (ref.numpy() >= 0.5)).mean() > 0.999


def test_missing_checkpoint_and_wrong_architecture(exported, tmp_path):
    out = tmp_path / 'x.onnx'
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        export_onnx(TINY_CONFIG, str(out), checkpoint=str(tmp_path /
                                                          'nope.pth'))
    other = load_config(TINY_CONFIG)
    other.model.roi_head.mask_head.num_convs = 4
    with pytest.raises(ExportError, match='does not match the model'):
        export_onnx(other, str(out), checkpoint=exported['ckpt'])
    assert not out.exists(), 'nothing may be left at --out'
    assert list(tmp_path.iterdir()) == []


def test_export_failure_leaves_nothing(exported, tmp_path, monkeypatch):
    import mmdeploy.apis.onnx as mmdeploy_onnx

    def broken(*args, **kwargs):
        raise RuntimeError('exporter crashed half way')

    monkeypatch.setattr(mmdeploy_onnx, 'export', broken)
    out = tmp_path / 'x.onnx'
    with pytest.raises(ExportError, match='exporter crashed half way'):
        export_onnx(TINY_CONFIG, str(out))
    assert list(tmp_path.iterdir()) == []


def test_int8(exported):
    from feather_runtime import Detector
    int8 = str(exported['tmp'] / 'tiny_int8.onnx')
    calib = [osp.join(FRUITS, 'images', f'{i}.jpg') for i in range(4)]
    sizes = quantize_int8(exported['onnx'], int8, calib)
    assert sizes['ratio'] <= 0.35
    # the default is the format whose convs really run in int8
    from feather_mmdet.deploy import count_int8_convs
    convs = count_int8_convs(int8)
    assert convs['int8'] > 0 and convs['float'] == 0
    result = Detector(int8)(cv2.imread(IMAGES[0]))
    assert len(result) > 0 and result.masks.shape[1:] == (600, 800)


@pytest.mark.parametrize('fmt, types, reduce_range', [
    ('qoperator', 'u8s8', True), ('qdq', 's8s8', False)])
def test_int8_variants_and_conv_count(exported, fmt, types, reduce_range):
    """The int8 variants run, and the count says how many convs of the
    optimised graph are integer: none in fp32, some in QOperator format
    (QLinearConv is in the file itself)."""
    from feather_mmdet.deploy import count_int8_convs
    from feather_runtime import Detector
    fp32 = count_int8_convs(exported['onnx'])
    assert fp32['int8'] == 0 and fp32['float'] > 0
    out = str(exported['tmp'] / f'tiny_{fmt}_{types}.onnx')
    calib = [osp.join(FRUITS, 'images', f'{i}.jpg') for i in range(2)]
    quantize_int8(exported['onnx'], out, calib, quant_format=fmt,
                  types=types, reduce_range=reduce_range)
    convs = count_int8_convs(out)
    assert convs['int8'] + convs['float'] == fp32['float']
    if fmt == 'qoperator':
        assert convs['int8'] > 0
    result = Detector(out)(cv2.imread(IMAGES[0]))
    assert result.masks.shape[1:] == (600, 800)
    with pytest.raises(ValueError, match='quant_format'):
        quantize_int8(exported['onnx'], out, calib, quant_format='int4')


def test_int8_openvino_nncf(exported):
    """NNCF's int8 IR runs in the runtime's OpenVINO backend with the
    fp32 file's preprocessing, and its convs are quantized."""
    import openvino as ov

    from feather_mmdet.deploy import count_int8_convs, quantize_int8_openvino
    from feather_runtime import Detector
    out = str(exported['tmp'] / 'tiny_int8_ov.xml')
    calib = [osp.join(FRUITS, 'images', f'{i}.jpg') for i in range(2)]
    sizes = quantize_int8_openvino(exported['onnx'], out, calib)
    assert osp.isfile(out[:-4] + '.bin') and sizes['ratio'] < 0.5
    ops = [op.get_type_name() for op in ov.Core().read_model(out).get_ops()]
    assert 'FakeQuantize' in ops
    # Every conv, depthwise ones included, runs an int8 kernel once
    # compiled (unfolded depthwise weights used to leave them in fp32).
    convs = count_int8_convs(out)
    assert convs['float'] == 0
    assert convs['int8'] == sum(count_int8_convs(exported['onnx']).values())
    detector = Detector(out, backend='openvino')
    assert detector.meta == Detector(exported['onnx']).meta
    result = detector(cv2.imread(IMAGES[0]))
    assert result.masks.shape[1:] == (600, 800)
    with pytest.raises(ValueError, match='.xml'):
        quantize_int8_openvino(exported['onnx'], out[:-4] + '.onnx', calib)


@pytest.mark.slow
def test_infer_tool_with_onnxruntime(exported, tmp_path):
    out = subprocess.run([
        sys.executable, osp.join(REPO_ROOT, 'tools', 'infer.py'), IMAGES[0],
        '--backend', 'onnxruntime', '--model', exported['onnx'],
        '--out-dir', str(tmp_path), '--score-thr', '0.05'
    ], capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    pred = json.loads((tmp_path / 'preds' / '15.json').read_text())
    assert set(pred) >= {'labels', 'scores', 'bboxes', 'masks'}
    assert len(pred['masks']) == len(pred['scores']) > 0
    assert pred['masks'][0]['size'] == [600, 800]
    assert (tmp_path / 'vis' / '15.jpg').stat().st_size > 1000


@pytest.mark.slow
def test_export_tool_refuses_missing_checkpoint(tmp_path):
    out = subprocess.run([
        sys.executable, osp.join(REPO_ROOT, 'tools', 'export_onnx.py'),
        TINY_CONFIG, '--checkpoint', str(tmp_path / 'missing.pth'), '--out',
        str(tmp_path / 'm.onnx')
    ], capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 1
    assert 'missing.pth' in out.stderr and 'does not exist' in out.stderr
    assert not (tmp_path / 'm.onnx').exists()


@pytest.mark.slow
def test_rtmdet_ins_exports_and_runs(tmp_path):
    """The comparison model: mmdet's RTMDet-Ins-tiny config (its Pretrained
    URL init is dropped: nothing downloads), full-image masks."""
    from feather_runtime import Detector
    out = str(tmp_path / 'rtmdet.onnx')
    meta = export_onnx('mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py',
                       out, shape=(128, 128))
    assert meta['mask_mode'] == 'image' and meta['pad_value'] == [114.0] * 3
    result = Detector(out)(cv2.imread(IMAGES[0]))
    assert result.masks.shape[1:] == (600, 800)
    assert len(result) == len(result.scores) == len(result.labels)
