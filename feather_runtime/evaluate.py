"""COCO bbox/segm AP of an exported model on a COCO-format split, with
pycocotools only (no torch), so a deployed model can be checked against the
PyTorch one on the same images."""
import contextlib
import io
import json
import os.path as osp
from typing import Callable, Dict, Optional

import cv2
import numpy as np

from .detector import Detector


def evaluate_coco(detector: Detector,
                  ann_file: str,
                  img_dir: str,
                  progress: Optional[Callable[[int, int], None]] = None
                  ) -> Dict[str, float]:
    """Run ``detector`` on every image of ``ann_file`` and score it.

    Labels map to the json's categories by name (the model's classes), as
    mmdet's ``CocoMetric`` does.

    Returns:
        dict: ``bbox_mAP``, ``bbox_mAP_50``, ``segm_mAP``, ``segm_mAP_50``.
    """
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    try:
        with open(ann_file) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f'{ann_file!r} is not readable JSON ({e}); give a '
                         'COCO instances file') from e
    missing_lists = [k for k in ('images', 'annotations', 'categories')
                     if not isinstance(data, dict)
                     or not isinstance(data.get(k), list)]
    if missing_lists:
        raise ValueError(f'{ann_file!r} is not a COCO instances file: no '
                         f'{missing_lists} list(s)')
    if not data['images']:
        raise ValueError(f'{ann_file!r} lists no images: nothing to '
                         'evaluate (an AP of 0.0 would mean nothing)')
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(ann_file)
    name_to_cat = {c['name']: c['id'] for c in coco.loadCats(coco.getCatIds())}
    missing = [c for c in detector.classes if c not in name_to_cat]
    if missing:
        raise ValueError(f'model classes {missing} are not categories of '
                         f'{ann_file!r}')
    cat_ids = [name_to_cat[c] for c in detector.classes]
    dets = []
    img_ids = coco.getImgIds()
    for i, img_id in enumerate(img_ids):
        info = coco.loadImgs(img_id)[0]
        img = cv2.imread(osp.join(img_dir, info['file_name']))
        if img is None:
            raise FileNotFoundError(
                f'{osp.join(img_dir, info["file_name"])} cannot be read')
        if img.shape[:2] != (info['height'], info['width']):
            raise ValueError(
                f'{info["file_name"]} is {img.shape[1]}x{img.shape[0]} but '
                f'{ann_file!r} says {info["width"]}x{info["height"]}: boxes '
                'and masks would not line up (AP near 0); use the json made '
                'for these files, or tools/resize_dataset.py to resize both')
        result = detector(img)
        for box, score, label, mask in zip(result.bboxes, result.scores,
                                           result.labels, result.masks):
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            rle['counts'] = rle['counts'].decode()
            x1, y1, x2, y2 = (float(v) for v in box)
            dets.append(
                dict(
                    image_id=img_id,
                    category_id=cat_ids[int(label)],
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    score=float(score),
                    segmentation=rle))
        if progress:
            progress(i + 1, len(img_ids))
    metrics = {}
    for iou_type in ('bbox', 'segm'):
        if not dets:
            metrics.update({f'{iou_type}_mAP': 0.0, f'{iou_type}_mAP_50': 0.0})
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            coco_dt = coco.loadRes(json.loads(json.dumps(dets)))
            evaluator = COCOeval(coco, coco_dt, iou_type)
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        metrics[f'{iou_type}_mAP'] = float(evaluator.stats[0])
        metrics[f'{iou_type}_mAP_50'] = float(evaluator.stats[1])
    return metrics
