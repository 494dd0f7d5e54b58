"""Paste per-detection mask probabilities into the image, as mmdet does."""
import numpy as np


def _interp_matrix(coords: np.ndarray, size: int) -> np.ndarray:
    """Bilinear weights (len(coords) x size) for sampling a length-``size``
    signal at ``coords`` (pixel units), zero outside: ``grid_sample`` with
    ``align_corners=False`` and zero padding, one axis at a time."""
    i0 = np.floor(coords).astype(np.int64)
    frac = (coords - i0).astype(np.float32)
    weights = np.zeros((len(coords), size), np.float32)
    rows = np.arange(len(coords))
    for idx, w in ((i0, 1 - frac), (i0 + 1, frac)):
        ok = (idx >= 0) & (idx < size)
        weights[rows[ok], idx[ok]] += w[ok]
    return weights


def paste_masks(masks: np.ndarray,
                boxes: np.ndarray,
                height: int,
                width: int,
                threshold: float = 0.5) -> np.ndarray:
    """Paste ``N x m x m`` mask probabilities into ``N x height x width``
    boolean masks, each stretched over its box.

    The same sampling as mmdet's ``_do_paste_mask`` (bilinear
    ``grid_sample``, pixel centres at +0.5, zero outside the mask), done as
    two small matrix products per detection because the grid is separable.

    Args:
        masks (np.ndarray): ``(N, m, m)`` probabilities.
        boxes (np.ndarray): ``(N, 4)`` boxes ``x1, y1, x2, y2`` in the
            target image's pixels.
        height (int): Target image height.
        width (int): Target image width.
        threshold (float): Pixels with probability >= threshold are set.

    Returns:
        np.ndarray: ``(N, height, width)`` bool.
    """
    out = np.zeros((len(masks), height, width), bool)
    for i, (mask, (x0, y0, x1, y1)) in enumerate(zip(masks, boxes)):
        mh, mw = mask.shape
        # Beyond one mask pixel outside the box every weight is zero.
        xs = np.arange(
            max(int(np.floor(x0)) - 1, 0), min(int(np.ceil(x1)) + 1, width))
        ys = np.arange(
            max(int(np.floor(y0)) - 1, 0), min(int(np.ceil(y1)) + 1, height))
        if len(xs) == 0 or len(ys) == 0:
            continue
        u = (xs + 0.5 - x0) / max(x1 - x0, 1e-6) * mw - 0.5
        v = (ys + 0.5 - y0) / max(y1 - y0, 1e-6) * mh - 0.5
        sampled = _interp_matrix(v, mh) @ mask.astype(np.float32) @ \
            _interp_matrix(u, mw).T
        out[i, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1] = sampled >= threshold
    return out
