"""Bad input through the inference and export tools and the runtime: an
error that names the problem and the fix before any work, no overwritten
input or output; a batch skips (and counts) what it cannot read."""
import json
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from helpers import FRUITS, REPO_ROOT, TINY_CONFIG

INFER = osp.join(REPO_ROOT, 'tools', 'infer.py')
EXPORT = osp.join(REPO_ROOT, 'tools', 'export_onnx.py')


def _run(*args):
    return subprocess.run([sys.executable, *map(str, args)],
                          capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=600)


@pytest.fixture(scope='module')
def onnx_file(tmp_path_factory):
    """The tiny Feather config exported with random weights."""
    from feather_mmdet.deploy import export_onnx
    tmp = tmp_path_factory.mktemp('onnx')
    torch.manual_seed(0)
    path = str(tmp / 'tiny.onnx')
    export_onnx(TINY_CONFIG, path, shape=(120, 160))
    return path


@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    """Random weights of the tiny Feather model and of its dense twin."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    tmp = tmp_path_factory.mktemp('ckpt')
    cfg = Config.fromfile(TINY_CONFIG)
    torch.manual_seed(0)
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()},
               tmp / 'feather.pth')
    cfg.model.backbone.type = 'ResNet'
    cfg.model.roi_head.mask_head.type = 'FCNMaskHead'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()},
               tmp / 'dense.pth')
    return tmp


def _folder(tmp_path):
    """Two good photos (one with an upper-case extension), a text file, a
    truncated JPEG."""
    d = tmp_path / 'imgs'
    d.mkdir()
    shutil.copy(osp.join(FRUITS, 'images', '15.jpg'), d / 'a.jpg')
    shutil.copy(osp.join(FRUITS, 'images', '16.jpg'), d / 'B.JPG')
    (d / 'notes.png').write_text('not an image')
    data = open(osp.join(FRUITS, 'images', '17.jpg'), 'rb').read()
    (d / 'cut.jpg').write_bytes(data[:len(data) // 2])
    return d


@pytest.mark.slow
def test_onnx_batch_skips_and_counts_unreadable(onnx_file, tmp_path):
    out = tmp_path / 'out'
    proc = _run(INFER, _folder(tmp_path), '--backend', 'onnxruntime',
                '--model', onnx_file, '--out-dir', out, '--score-thr', '0')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '2 image(s) done, 2 skipped' in proc.stdout
    assert 'cut.jpg' in proc.stderr and 'notes.png' in proc.stderr
    assert sorted(p.name for p in (out / 'preds').iterdir()) == [
        'B.json', 'a.json']


@pytest.mark.slow
def test_torch_backend_same_files_and_score_thr(tiny_ckpt, tmp_path):
    """Upper-case extensions are not skipped, and the JSON holds only what
    passes --score-thr (DetInferencer applies it to the drawing only)."""
    folder = _folder(tmp_path)
    proc = _run(INFER, folder / 'a.jpg', '--config', TINY_CONFIG,
                '--weights', tiny_ckpt / 'feather.pth', '--out-dir',
                tmp_path / 'all', '--score-thr', '0')
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores = sorted(json.loads(
        (tmp_path / 'all' / 'preds' / 'a.json').read_text())['scores'])
    assert len(scores) >= 2 and scores[0] < scores[-1]
    thr = scores[len(scores) // 2]  # some detections below, some above
    out = tmp_path / 'out'
    proc = _run(INFER, folder, '--config', TINY_CONFIG,
                '--weights', tiny_ckpt / 'feather.pth', '--out-dir', out,
                '--score-thr', thr)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '2 image(s) done, 2 skipped' in proc.stdout
    preds = {p.name: json.loads(p.read_text())
             for p in (out / 'preds').iterdir()}
    assert sorted(preds) == ['B.json', 'a.json']
    kept = preds['a.json']['scores']
    assert kept and all(s >= thr for s in kept)
    assert len(kept) == sum(s >= thr for s in scores)
    for pred in preds.values():
        assert len(pred['labels']) == len(pred['scores']) == len(
            pred['bboxes'])


def test_torch_backend_refuses_a_checkpoint_of_another_model(tiny_ckpt,
                                                             tmp_path):
    from feather_mmdet.apis import run_inference
    from feather_mmdet.engine import CheckpointMismatchError
    with pytest.raises(CheckpointMismatchError, match='does not fit'):
        run_inference(TINY_CONFIG, str(tiny_ckpt / 'dense.pth'),
                      osp.join(FRUITS, 'images', '15.jpg'),
                      str(tmp_path / 'out'))
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('case, message', [
    ('clash', 'would both be written as a.json'),
    ('empty', 'no images'),
    ('out_is_file', 'is a file'),
    ('not_onnx', 'cannot be loaded as an exported model'),
])
def test_infer_refuses_before_work(tmp_path, case, message):
    d = tmp_path / 'imgs'
    d.mkdir()
    model = tmp_path / 'model.onnx'
    model.write_text('not onnx')
    out = tmp_path / 'out'
    if case != 'empty':
        shutil.copy(osp.join(FRUITS, 'images', '15.jpg'), d / 'a.jpg')
    if case == 'clash':
        shutil.copy(osp.join(FRUITS, 'images', '16.jpg'), d / 'a.png')
    if case == 'out_is_file':
        out.write_text('keep me')
    proc = _run(INFER, d, '--backend', 'onnxruntime', '--model', model,
                '--out-dir', out)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
    if case == 'out_is_file':
        assert out.read_text() == 'keep me'
    else:
        assert not (out / 'preds').exists() or not list(
            (out / 'preds').iterdir())


@pytest.mark.parametrize('extra, message', [
    (['--shape', '0', '0'], 'positive height and width'),
    (['--int8', '{out}', '--calib-images', FRUITS], 'would replace the fp32'),
    (['--int8', '{tmp}/q.onnx', '--calib-images', '{tmp}/empty'],
     'no image files there'),
])
def test_export_refuses_before_work(tmp_path, extra, message):
    (tmp_path / 'empty').mkdir()
    out = tmp_path / 'f.onnx'
    out.write_text('an earlier export')
    args = [a.format(out=out, tmp=tmp_path) for a in extra]
    proc = _run(EXPORT, TINY_CONFIG, '--out', out, *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert out.read_text() == 'an earlier export'


def test_export_refuses_a_folder_as_out(tmp_path):
    proc = _run(EXPORT, TINY_CONFIG, '--out', tmp_path)
    assert proc.returncode == 2 and 'is a folder' in proc.stderr


def test_export_shape_without_keep_ratio_is_width_height():
    """A portrait --shape with keep_ratio=False: the runtime resizes to
    exactly that width and height (it used to store them swapped)."""
    from mmengine.config import Config

    from feather_mmdet.deploy.export import preprocess_meta
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.test_dataloader.dataset.pipeline[1].keep_ratio = False
    meta = preprocess_meta(cfg, shape=(320, 160))
    assert meta['input_shape'] == [320, 160]
    assert meta['scale'] == [160, 320]  # (w, h)
    assert meta['keep_ratio'] is False


@pytest.mark.parametrize('img', [
    np.random.rand(120, 160, 3).astype(np.float32),  # floats in 0..1
    (np.random.rand(120, 160, 3) * 65535).astype(np.uint16),
    np.zeros((120, 160), np.uint8),  # gray
])
def test_runtime_refuses_images_it_would_misread(onnx_file, img):
    from feather_runtime import Detector
    detector = Detector(onnx_file)
    with pytest.raises(ValueError, match='BGR uint8 image'):
        detector(img)


def test_runtime_reads_metadata_without_onnx(onnx_file):
    """The runtime needs onnxruntime or OpenVINO, not the onnx package."""
    code = ('import sys\n'
            'sys.modules["onnx"] = None  # import onnx fails\n'
            'from feather_runtime import Detector\n'
            'for backend in ("onnxruntime", "openvino"):\n'
            '    d = Detector(sys.argv[1], backend=backend)\n'
            '    assert d.meta["input_shape"] == [120, 160], d.meta\n'
            'print("ok")\n')
    proc = subprocess.run([sys.executable, '-c', code, onnx_file],
                          capture_output=True, text=True,
                          cwd=osp.dirname(REPO_ROOT) or '/')
    assert proc.returncode == 0 and 'ok' in proc.stdout, proc.stderr[-2000:]


@pytest.mark.parametrize('case, message', [
    ('no_images', 'lists no images'),
    ('not_coco', 'not a COCO instances file'),
    ('invalid', 'not readable JSON'),
    ('wrong_size', 'would not line up'),
])
def test_eval_onnx_refuses_what_would_score_zero(onnx_file, tmp_path, case,
                                                 message):
    coco = json.loads(open(osp.join(FRUITS, 'annotations',
                                    'val.json')).read())
    ann = tmp_path / 'ann.json'
    if case == 'no_images':
        coco['images'] = []
    elif case == 'not_coco':
        coco = dict(items=[])
    elif case == 'wrong_size':
        coco['images'][0]['width'] //= 2
    ann.write_text('{"images": [' if case == 'invalid' else json.dumps(coco))
    proc = _run(osp.join(REPO_ROOT, 'tools', 'eval_onnx.py'), onnx_file,
                '--ann-file', ann, '--img-dir', osp.join(FRUITS, 'images'))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_runtime_lists_and_reads_images_like_the_tools(tmp_path):
    """feather_runtime's folder reading (used by infer.py and export_onnx.py):
    any case of extension, only files, truncated JPEGs refused."""
    from feather_runtime import list_images, read_image
    img = np.full((8, 8, 3), 200, np.uint8)
    cv2.imwrite(str(tmp_path / 'b.JPG'), img)
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    (tmp_path / 'notes.txt').write_text('not an image')
    (tmp_path / 'dir.jpg').mkdir()
    data = (tmp_path / 'b.JPG').read_bytes()
    (tmp_path / 'cut.jpg').write_bytes(data[:len(data) // 2])
    files = list_images(str(tmp_path))
    assert [osp.basename(f) for f in files] == ['a.png', 'b.JPG', 'cut.jpg']
    assert read_image(files[1]).shape == (8, 8, 3)
    assert read_image(files[2]) is None
    assert list_images([str(tmp_path / 'a.png'), str(tmp_path)])[0].endswith(
        'a.png')
