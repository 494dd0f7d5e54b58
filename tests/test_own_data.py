"""Training on a COCO folder of one's own (one command), then exporting and
running that model without torch; the one-off dataset resize."""
import json
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from pycocotools import mask as mask_utils

from feather_mmdet.utils.own_data import (OwnDataError, coco_classes,
                                          resize_coco_folder, use_coco_folder)
from helpers import FRUITS, REPO_ROOT, TINY_CONFIG

TOOLS = osp.join(REPO_ROOT, 'tools')
# Names and ids unlike the shipped data's (date/fig/hazelnut = 1/2/3): two
# classes, ids out of order (labels follow the json's category list).
CATEGORIES = [dict(id=9, name='zeta'), dict(id=4, name='alpha')]
REMAP = {1: 9, 2: 4}  # date -> zeta, fig -> alpha; hazelnuts are dropped


def make_coco_folder(root, n_train=6, n_val=2):
    """A COCO folder from the shipped fruits photos, with other classes."""
    with open(osp.join(FRUITS, 'trainval.json')) as f:
        coco = json.load(f)
    images = coco['images'][:n_train + n_val]
    (root / 'images').mkdir(parents=True)
    (root / 'annotations').mkdir()
    for split, ims in (('train', images[:n_train]),
                       ('val', images[n_train:])):
        ids = {im['id'] for im in ims}
        for im in ims:
            shutil.copy(osp.join(FRUITS, 'images', im['file_name']),
                        root / 'images' / im['file_name'])
        anns = [dict(a, category_id=REMAP[a['category_id']])
                for a in coco['annotations']
                if a['image_id'] in ids and a['category_id'] in REMAP]
        (root / 'annotations' / f'{split}.json').write_text(json.dumps(
            dict(images=ims, annotations=anns, categories=CATEGORIES)))
    return root


def test_dataset_template_trains_a_recipe_on_the_folder(tmp_path):
    """A dataset config of one's own as the shipped ones are written: a child
    of the COCO-folder base, swapped into a CPU recipe."""
    root = make_coco_folder(tmp_path / 'mine')
    base = osp.join(REPO_ROOT, 'configs', '_base_')
    text = open(osp.join(base, 'datasets', 'fruits_nuts_instance.py')).read()
    text = text.replace("'./coco_folder_instance.py'", repr(osp.join(
        base, 'datasets', 'coco_folder_instance.py'))).replace(
            "'data/fruits_nuts/'", repr(str(root) + '/')).replace(
                "classes=('date', 'fig', 'hazelnut')",
                "classes=('zeta', 'alpha')")
    (tmp_path / 'my_data.py').write_text(text)
    recipe = open(osp.join(
        REPO_ROOT, 'configs', 'feather_mask_rcnn',
        'mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_rice-leaf.py')).read()
    recipe = recipe.replace("'../_base_/datasets/rice_leaf_disease_instance.py'",
                            "'./my_data.py'").replace("'../_base_/",
                                                      f"'{base}/")
    (tmp_path / 'my_recipe.py').write_text(recipe)
    cfg = Config.fromfile(str(tmp_path / 'my_recipe.py'))
    assert cfg.model.roi_head.bbox_head.num_classes == 2
    assert cfg.model.roi_head.mask_head.num_classes == 2
    assert cfg.val_evaluator.ann_file == str(root / 'annotations/val.json')
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    register_all_modules()
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert (len(train), len(val)) == (6, 2)
    # labels follow the json's category list: zeta (id 9) -> 0, alpha -> 1
    assert train.cat2label == {9: 0, 4: 1}
    assert train.metainfo['classes'] == ('zeta', 'alpha')


def test_classes_follow_the_json_order_and_preflight_refuses_another(
        tmp_path):
    """mmdet numbers labels in the json's category order, whatever the ids
    and the order of `classes`: names in another order would be attached to
    the wrong labels."""
    from feather_mmdet.utils.preflight import check_coco_split
    root = make_coco_folder(tmp_path / 'mine')
    assert coco_classes(str(root / 'annotations' / 'train.json')) == [
        'zeta', 'alpha']
    cfg = Config.fromfile(TINY_CONFIG)
    use_coco_folder(cfg, str(root), classes=['alpha', 'zeta'])
    assert cfg.train_dataloader.dataset.metainfo.classes == ('zeta', 'alpha')
    assert not [p for p in check_coco_split(cfg, 'train')
                if p.level == 'error']
    cfg.train_dataloader.dataset.metainfo = dict(classes=('alpha', 'zeta'))
    errors = [p.message for p in check_coco_split(cfg, 'train')
              if p.level == 'error']
    assert len(errors) == 1 and "list them as ('zeta', 'alpha')" in errors[0]
    with pytest.raises(OwnDataError, match='not categories'):
        use_coco_folder(cfg, str(root), classes=['alpha', 'omega'])


def test_use_coco_folder_sets_every_key(tmp_path):
    root = make_coco_folder(tmp_path / 'mine')
    cfg = Config.fromfile(TINY_CONFIG)
    use_coco_folder(cfg, str(root))
    for split in ('train', 'val', 'test'):
        ds = cfg[f'{split}_dataloader'].dataset
        assert ds.data_root == str(root) + '/'
        assert ds.metainfo == dict(classes=('zeta', 'alpha'))
    assert cfg.train_dataloader.dataset.ann_file == 'annotations/train.json'
    assert cfg.val_evaluator.ann_file == str(root / 'annotations/val.json')
    assert cfg.model.roi_head.bbox_head.num_classes == 2
    assert cfg.model.roi_head.mask_head.num_classes == 2
    assert cfg.model.rpn_head.get('num_classes', 1) == 1  # class-agnostic


@pytest.mark.parametrize('broken, message', [
    ('no_folder', 'is not a folder'),
    ('no_val', 'val.json does not exist'),
    ('no_categories', 'no "categories"'),
])
def test_use_coco_folder_names_the_problem(tmp_path, broken, message):
    root = make_coco_folder(tmp_path / 'mine', n_train=1, n_val=1)
    if broken == 'no_folder':
        root = tmp_path / 'absent'
    elif broken == 'no_val':
        (root / 'annotations' / 'val.json').unlink()
    else:
        path = root / 'annotations' / 'train.json'
        coco = json.loads(path.read_text())
        path.write_text(json.dumps(dict(coco, categories=[])))
    with pytest.raises(OwnDataError, match=message):
        use_coco_folder(Config.fromfile(TINY_CONFIG), str(root))


@pytest.mark.slow
def test_own_data_one_command_then_torch_free_runtime(tmp_path):
    """Train with one command, then export the work dir's config and run it
    in onnxruntime: the classes of the json all the way through."""
    root = make_coco_folder(tmp_path / 'mine')
    work = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'train_own_data.py'), str(root),
         '--config', TINY_CONFIG, '--work-dir', str(work), '--max-iters',
         '2'], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '2 classes from annotations/train.json: zeta, alpha' in \
        proc.stdout
    log = proc.stdout + proc.stderr
    assert 'coco/segm_mAP' in log  # evaluated on the folder's val split
    dumped = work / 'tiny_fruits.py'
    cfg = Config.fromfile(str(dumped))
    assert cfg.model.roi_head.bbox_head.num_classes == 2
    # README: `mim test mmdet <work_dir>/<recipe>.py --checkpoint ...`
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    proc = subprocess.run(
        [mim, 'test', 'mmdet', str(dumped), '--checkpoint',
         str(work / 'iter_2.pth'), '--work-dir', str(tmp_path / 'test')],
        capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coco/segm_mAP' in proc.stdout + proc.stderr
    onnx_file = tmp_path / 'mine.onnx'
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'export_onnx.py'), str(dumped),
         '--checkpoint', str(work / 'iter_2.pth'), '--out', str(onnx_file)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '2 classes' in proc.stdout
    out = tmp_path / 'out'
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'infer.py'), str(root / 'images'),
         '--backend', 'onnxruntime', '--model', str(onnx_file),
         '--out-dir', str(out), '--score-thr', '0'],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    preds = [json.loads(p.read_text())
             for p in sorted((out / 'preds').glob('*.json'))]
    assert len(preds) == 8
    assert sum(len(p['labels']) for p in preds) > 0
    for pred in preds:
        assert set(pred['labels']) <= {0, 1}
        assert set(pred['classes']) <= {'alpha', 'zeta'}


def test_own_data_tool_refuses_a_bad_folder(tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'train_own_data.py'),
         str(tmp_path / 'absent')], capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'is not a folder' in proc.stderr
    assert not (tmp_path / 'absent').exists()


def test_resize_dataset_rescales_images_and_masks(tmp_path):
    src = make_coco_folder(tmp_path / 'src', n_train=2, n_val=1)
    big = tmp_path / 'big'
    counts = resize_coco_folder(str(src), str(big), 1600, upscale=True,
                                to_rle=True)
    assert counts['images'] == 3 and counts['copied'] == 0
    small = tmp_path / 'small'
    resize_coco_folder(str(big), str(small), 400)
    for rel in ('annotations/train.json', 'annotations/val.json'):
        orig = json.loads((src / rel).read_text())
        down = json.loads((small / rel).read_text())
        for im, new in zip(orig['images'], down['images']):
            img = cv2.imread(str(small / 'images' / new['file_name']))
            assert img.shape[:2] == (new['height'], new['width'])
            assert max(new['width'], new['height']) == 400
        scale = down['images'][0]['width'] / orig['images'][0]['width']
        for a, b in zip(orig['annotations'], down['annotations']):
            assert np.allclose(b['bbox'], np.array(a['bbox']) * scale,
                               atol=0.5)
            assert isinstance(b['segmentation'], dict)  # RLE through
            h, w = b['segmentation']['size']
            assert (h, w) == (down['images'][0]['height'],
                              down['images'][0]['width'])
            area = mask_utils.area(b['segmentation'])
            assert area == pytest.approx(a['area'] * scale**2, rel=0.15)
    with pytest.raises(OwnDataError, match='overlap'):
        resize_coco_folder(str(src), str(src / 'inside'), 100)
    with pytest.raises(OwnDataError, match='exists already'):
        resize_coco_folder(str(src), str(small), 100)
