"""Draw and serialise results in the format of ``tools/infer.py``."""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from .detector import Result


def draw_result(img: np.ndarray,
                result: Result,
                classes: Sequence[str],
                score_thr: float = 0.5,
                alpha: float = 0.5) -> np.ndarray:
    """Overlay masks, boxes and ``label score`` on a copy of a BGR image."""
    out = img.copy()
    rng = np.random.RandomState(42)
    palette = rng.randint(0, 255, (max(len(classes), 1), 3))
    for box, score, label, mask in zip(result.bboxes, result.scores,
                                       result.labels, result.masks):
        if score < score_thr:
            continue
        color = tuple(int(c) for c in palette[label % len(palette)])
        out[mask] = (out[mask] * (1 - alpha) +
                     np.array(color) * alpha).astype(np.uint8)
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 2)
        name = classes[label] if label < len(classes) else str(label)
        cv2.putText(out, f'{name} {score:.2f}', (x1, max(y1 - 4, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1, cv2.LINE_AA)
    return out


def result_to_json(result: Result,
                   classes: Optional[Sequence[str]] = None) -> Dict:
    """``labels``, ``scores``, ``bboxes`` and COCO RLE ``masks``: the keys
    of mmdet's ``DetInferencer`` prediction files (``tools/infer.py``)."""
    from pycocotools import mask as mask_utils
    rles: List[Dict] = []
    for mask in result.masks:
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        rle['counts'] = rle['counts'].decode()
        rles.append(rle)
    out = dict(
        labels=result.labels.tolist(),
        scores=result.scores.tolist(),
        bboxes=result.bboxes.tolist(),
        masks=rles)
    if classes is not None:
        out['classes'] = [classes[i] for i in result.labels]
    return out
