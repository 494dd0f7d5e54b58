# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Point any recipe at a COCO folder of one's own (``tools/train_own_data.py``).

A recipe's ``data_root`` is a config variable, resolved when the config
loads, so a different folder otherwise means about ten ``--cfg-options``
(every dataloader's ``data_root``, ``ann_file`` and ``metainfo``, both heads'
``num_classes``, the evaluators' ``ann_file``). :func:`use_coco_folder` sets
them all from the folder and its annotation file.
"""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import Config, ConfigDict


class OwnDataError(ValueError):
    """The folder or its annotation files cannot be used as given."""


def coco_classes(ann_file: str) -> List[str]:
    """Category names of a COCO json, in the order of its ``categories`` list:
    mmdet's ``CocoDataset`` numbers labels 0..N-1 in that order (pycocotools'
    ``getCatIds``), whatever the ids and whatever order ``classes`` has."""
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise OwnDataError(
            f'{ann_file}: cannot read it as JSON ({e}); give a COCO '
            'annotation file.') from e
    cats = coco.get('categories') if isinstance(coco, dict) else None
    if not cats:
        raise OwnDataError(
            f'{ann_file}: no "categories" list; a COCO annotation file '
            'needs one (id and name per class).')
    names = [c['name'] for c in cats]
    if len(set(names)) != len(names):
        raise OwnDataError(
            f'{ann_file}: category names repeat ({names}); mmdet maps '
            'classes by name, so make them unique.')
    return names


def _datasets(node: Any) -> List[ConfigDict]:
    """The leaf datasets of a dataloader's dataset (wrappers unwrapped)."""
    if isinstance(node, (list, tuple)):
        return [d for n in node for d in _datasets(n)]
    if not isinstance(node, dict):
        return []
    if 'dataset' in node:
        return _datasets(node['dataset'])
    if 'datasets' in node:
        return _datasets(node['datasets'])
    return [node]


def _set_num_classes(node: Any, num_classes: int, path: str = '') -> None:
    """Every ``num_classes`` of the model but the RPN's (class-agnostic)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            _set_num_classes(item, num_classes, path)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == 'num_classes' and 'rpn_head' not in path:
                node[key] = num_classes
            else:
                _set_num_classes(value, num_classes, f'{path}.{key}')


def _evaluators(cfg: Config, key: str) -> List[ConfigDict]:
    ev = cfg.get(key)
    return [e for e in (ev if isinstance(ev, (list, tuple)) else [ev])
            if isinstance(e, dict)]


def use_coco_folder(cfg: Config,
                    data_root: str,
                    train_ann: str = 'annotations/train.json',
                    val_ann: str = 'annotations/val.json',
                    img_prefix: str = 'images/',
                    classes: Optional[Sequence[str]] = None) -> Config:
    """Point ``cfg``'s train/val/test data, heads and evaluators at a COCO
    folder, in place.

    Args:
        cfg (Config): A training config (a recipe of this package or any
            mmdet instance-segmentation config).
        data_root (str): The folder; ``train_ann``, ``val_ann`` and
            ``img_prefix`` are relative to it.
        train_ann (str): Training annotations.
        val_ann (str): Validation (and test) annotations.
        img_prefix (str): Image folder, as in the json's ``file_name``.
        classes (Sequence[str], optional): Class names to train; default:
            every category of ``train_ann``. Either way they are put in
            the json's order, the order in which mmdet numbers the labels.

    Returns:
        Config: ``cfg``.

    Raises:
        OwnDataError: the folder, a json or the image folder is missing, or
            the json has no usable categories.
    """
    root = osp.abspath(data_root)
    if not osp.isdir(root):
        raise OwnDataError(
            f'data root {data_root!r} is not a folder; give the folder that '
            f'holds {img_prefix} and the annotation files.')
    for rel in (train_ann, val_ann):
        if not osp.isfile(osp.join(root, rel)):
            raise OwnDataError(
                f'{osp.join(root, rel)} does not exist; put the COCO json '
                'there or name it with --train-ann/--val-ann.')
    if not osp.isdir(osp.join(root, img_prefix)):
        raise OwnDataError(
            f'image folder {osp.join(root, img_prefix)} does not exist; '
            'name the folder of the images with --img-prefix.')
    in_json = coco_classes(osp.join(root, train_ann))
    if classes:
        unknown = [c for c in classes if c not in in_json]
        if unknown:
            raise OwnDataError(
                f'classes {unknown} are not categories of '
                f'{osp.join(root, train_ann)}; choose from {in_json}.')
        # Names attach to labels in the given order, labels follow the json.
        classes = [c for c in in_json if c in set(classes)]
    else:
        classes = in_json
    metainfo = dict(classes=tuple(classes))
    root += '/'
    for split, ann in (('train', train_ann), ('val', val_ann),
                       ('test', val_ann)):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for ds in _datasets(loader.get('dataset')):
            ds.data_root = root
            ds.ann_file = ann
            ds.data_prefix = dict(img=img_prefix)
            ds.metainfo = metainfo
        for ev in _evaluators(cfg, f'{split}_evaluator'):
            if 'ann_file' in ev or ev.get('type') == 'CocoMetric':
                ev.ann_file = root + ann
    _set_num_classes(cfg.model, len(classes))
    return cfg


def _scale_segmentation(seg: Any, sx: float, sy: float, height: int,
                        width: int, to_rle: bool = False) -> Any:
    """A COCO segmentation (polygons or RLE) in the resized image."""
    from pycocotools import mask as mask_utils
    if isinstance(seg, list):  # polygons: scale the coordinates
        polys = [[round(v * (sx if i % 2 == 0 else sy), 2)
                  for i, v in enumerate(poly)] for poly in seg]
        if not to_rle:
            return polys
        bitmap = mask_utils.decode(mask_utils.merge(
            mask_utils.frPyObjects(polys, height, width)))
    else:
        import cv2
        rle = seg
        if isinstance(rle.get('counts'), list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(rle, *rle['size'])
        bitmap = cv2.resize(mask_utils.decode(rle), (width, height),
                            interpolation=cv2.INTER_NEAREST)
    import numpy as np
    out = mask_utils.encode(np.asfortranarray(bitmap.astype(np.uint8)))
    out['counts'] = out['counts'].decode('ascii')
    return out


def resize_coco_folder(src_root: str,
                       dst_root: str,
                       max_side: int,
                       ann_files: Sequence[str] = ('annotations/train.json',
                                                   'annotations/val.json'),
                       img_prefix: str = 'images/',
                       upscale: bool = False,
                       to_rle: bool = False) -> Dict[str, int]:
    """Write a copy of a COCO folder whose images have at most ``max_side``
    pixels on their longer side, annotations (boxes, areas, polygons, RLE)
    rescaled with them.

    A one-off resize for photos much larger than the training input: the
    training pipeline otherwise decodes every JPEG and every mask at full
    resolution before resizing (see docs/training_speed.md). Images already
    small enough are copied as they are. Never writes into ``src_root``.

    Args:
        src_root (str): The COCO folder.
        dst_root (str): Where the copy goes (a new or empty folder).
        max_side (int): Longer side of the output images, in pixels.
        ann_files (Sequence[str]): Annotation files, relative to the root.
        img_prefix (str): Image folder, relative to the root.
        upscale (bool): Also enlarge smaller images to ``max_side`` (to
            make large-photo test data from small photos).
        to_rle (bool): Store every mask as compressed RLE.

    Returns:
        dict: ``images`` resized, ``copied`` unchanged, ``annotations``.
    """
    import shutil

    import cv2
    src, dst = osp.abspath(src_root), osp.abspath(dst_root)
    if osp.commonpath([src, dst]) in (src, dst):
        raise OwnDataError(
            f'output {dst_root!r} and input {src_root!r} overlap; write the '
            'resized copy to a folder outside the original (nothing is '
            'replaced in place).')
    if max_side < 1:
        raise OwnDataError(f'max_side={max_side}: give a positive size.')
    for rel in ann_files:
        if osp.exists(osp.join(dst, rel)):
            raise OwnDataError(
                f'{osp.join(dst, rel)} exists already; choose an empty '
                'output folder.')
    counts = dict(images=0, copied=0, annotations=0)
    done: Dict[str, tuple] = {}  # file name -> (sx, sy, w, h)
    for rel in ann_files:
        with open(osp.join(src, rel)) as f:
            coco = json.load(f)
        for im in coco['images']:
            name = im['file_name']
            if name not in done:
                src_img = osp.join(src, img_prefix, name)
                dst_img = osp.join(dst, img_prefix, name)
                os.makedirs(osp.dirname(dst_img), exist_ok=True)
                w, h = im['width'], im['height']
                scale = max_side / max(w, h)
                if not upscale:
                    scale = min(1.0, scale)
                if scale != 1.0:
                    img = cv2.imread(src_img, cv2.IMREAD_COLOR)
                    if img is None:
                        raise OwnDataError(
                            f'{src_img} cannot be read as an image; fix or '
                            'remove it from the json.')
                    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
                    cv2.imwrite(dst_img, cv2.resize(
                        img, (nw, nh), interpolation=cv2.INTER_AREA
                        if scale < 1 else cv2.INTER_LINEAR))
                    counts['images'] += 1
                else:
                    shutil.copyfile(src_img, dst_img)
                    nw, nh = w, h
                    counts['copied'] += 1
                done[name] = (nw / w, nh / h, nw, nh)
            sx, sy, nw, nh = done[name]
            im['width'], im['height'] = nw, nh
        sizes = {im['id']: done[im['file_name']] for im in coco['images']}
        for ann in coco.get('annotations', []):
            sx, sy, nw, nh = sizes[ann['image_id']]
            x, y, bw, bh = ann['bbox']
            ann['bbox'] = [x * sx, y * sy, bw * sx, bh * sy]
            ann['area'] = ann.get('area', bw * bh) * sx * sy
            if 'segmentation' in ann:
                ann['segmentation'] = _scale_segmentation(
                    ann['segmentation'], sx, sy, nh, nw, to_rle)
            counts['annotations'] += 1
        out = osp.join(dst, rel)
        os.makedirs(osp.dirname(out), exist_ok=True)
        with open(out + '.tmp', 'w') as f:
            json.dump(coco, f)
        os.replace(out + '.tmp', out)
    return counts
