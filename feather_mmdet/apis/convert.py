# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Dense -> Feather weight conversion with calibration images
(``tools/convert_dense_to_feather.py``).

Data-free mode is :func:`feather_mmdet.models.utils.convert_dense_state_dict`
(:mod:`feather_mmdet.models.utils.dense_to_feather`, the one module of the
conversion itself; this file is its entry point with calibration data).
The calibrated mode starts from it and refits every separable conv on the
inputs that conv sees in the dense model, on a few real images: the depthwise
norm gets the observed statistics and a ReLU shift from the observed minimum,
and the pointwise conv plus a constant are solved by least squares against
the dense conv's outputs.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from ..models.utils.dense_to_feather import (
    ConversionError, ConversionReport, convert_dense_state_dict,
    current_offset, find_separable_convs, least_squares_pointwise,
    load_converted, normalize_dense_keys, relative_error, set_depthwise,
    set_pointwise)
from ..utils.checkpoint import install_safe_checkpoint_loader

#: Feather module types and the dense ones they replace.
DENSE_TYPES = {
    'DepthwiseResNet': 'ResNet',
    'DepthwiseFPN': 'FPN',
    'DepthwiseRPNHead': 'RPNHead',
    'DepthwiseFCNMaskHead': 'FCNMaskHead',
}
#: Pixels per layer used by the least-squares fit.
MAX_PIXELS = 20000


def dense_twin(cfg: Config) -> Config:
    """The config with every Feather module type swapped back to mmdet's."""
    cfg = copy.deepcopy(cfg)

    def swap(node):
        if isinstance(node, dict):
            if node.get('type') in DENSE_TYPES:
                node['type'] = DENSE_TYPES[node['type']]
            for v in node.values():
                swap(v)
        elif isinstance(node, list):
            for v in node:
                swap(v)

    swap(cfg.model)
    return cfg


def calibration_batches(cfg: Config, model: nn.Module, num_images: int,
                        image_files: Optional[Sequence[str]] = None
                        ) -> List[dict]:
    """Preprocessed single-image batches from the config's train split
    (first ``num_images`` of its json) or from ``image_files``."""
    import json
    if image_files is None:
        ds = cfg.train_dataloader.dataset
        while 'dataset' in ds:
            ds = ds.dataset
        root = ds.get('data_root', '')
        with open(osp.join(root, ds.ann_file)) as f:
            images = json.load(f)['images'][:num_images]
        image_files = [
            osp.join(root, ds.data_prefix.get('img', ''), im['file_name'])
            for im in images
        ]
    pipeline = Compose([
        t for t in cfg.test_dataloader.dataset.pipeline
        if t['type'] != 'LoadAnnotations'
    ])
    batches = []
    for i, path in enumerate(image_files):
        if not osp.isfile(path):
            raise FileNotFoundError(f'calibration image {path!r} not found')
        data = pipeline(dict(img_path=path, img_id=i))
        batches.append(model.data_preprocessor(pseudo_collate([data]),
                                               False))
    return batches


def _capture(dense: nn.Module, names: Sequence[str],
             batches: List[dict]) -> Dict[str, Tuple[Tensor, Tensor]]:
    """Inputs and (pre-activation) outputs of the dense convs ``names``."""
    modules = dict(dense.named_modules())
    seen: Dict[str, List[Tuple[Tensor, Tensor]]] = {n: [] for n in names}
    hooks = []
    for name in names:
        conv = modules[name]
        conv = conv.conv if hasattr(conv, 'conv') else conv  # ConvModule

        def hook(mod, args, out, name=name):
            seen[name].append((args[0].detach(), out.detach()))

        hooks.append(conv.register_forward_hook(hook))
    try:
        with torch.no_grad():
            for batch in batches:
                dense.predict(batch['inputs'], batch['data_samples'])
    finally:
        for h in hooks:
            h.remove()
    return {n: v for n, v in seen.items() if v}


def _sample_pixels(tensors: List[Tensor], count: int,
                   rng: np.random.RandomState) -> Tensor:
    """(C, N) matrix of ``count`` random pixels across (B, C, H, W) maps."""
    flat = torch.cat([t.permute(1, 0, 2, 3).flatten(1) for t in tensors], 1)
    if flat.shape[1] > count:
        flat = flat[:, torch.from_numpy(
            rng.choice(flat.shape[1], count, replace=False))]
    return flat


def calibrate(model: nn.Module, dense_model: nn.Module,
              dense_state: Dict[str, Tensor], state: Dict[str, Tensor],
              batches: List[dict]) -> Dict[str, Dict[str, float]]:
    """Refit the separable convs of ``state`` in place on real inputs.

    Returns:
        dict: per layer, the relative output error of the data-free and of
        the calibrated weights on the calibration pixels.
    """
    seps = find_separable_convs(model, dense_state)
    # Feather names == dense names (module names are kept).
    captured = _capture(dense_model, [s.name for s in seps], batches)
    rng = np.random.RandomState(0)
    errors = {}
    for sep in seps:
        if sep.name not in captured:
            continue  # never run on these images (e.g. an unused level)
        xs, ys = zip(*captured[sep.name])
        dw = sep.module.depthwise_conv
        conv = dw.conv
        weight = state[f'{sep.name}.depthwise_conv.conv.weight']
        zs = [
            F.conv2d(x, weight, None, conv.stride, conv.padding,
                     conv.dilation, conv.groups) for x in xs
        ]
        # Same pixels for inputs and targets: stack channels, then sample.
        pixels = _sample_pixels([torch.cat([z, y], 1) for z, y in zip(zs, ys)],
                                MAX_PIXELS, rng)
        z, y = pixels[:weight.shape[0]], pixels[weight.shape[0]:]

        def branch(shift: Tensor) -> Tensor:
            return z + shift[:, None] if not dw.with_activation else \
                torch.relu(z + shift[:, None])

        def current_output() -> Tensor:
            pw = state[f'{sep.name}.pointwise_conv.conv.weight'][:, :, 0, 0]
            offset = current_offset(state, dense_state, sep)
            return pw @ branch(_current_shift(state, sep)) + offset[:, None]

        before = relative_error(current_output(), y)
        mean, std = z.mean(1), z.std(1)
        shift = (-torch.quantile(z, 0.001, dim=1)).clamp(min=0) if \
            dw.with_activation else torch.zeros_like(mean)
        set_depthwise(state, sep, weight, shift, mean, std)
        pointwise, offset = least_squares_pointwise(branch(shift), y)
        set_pointwise(state, dense_state, sep, pointwise, offset)
        errors[sep.name] = dict(
            data_free=before, calibrated=relative_error(current_output(), y))
    return errors


def _current_shift(state: Dict[str, Tensor], sep) -> Tensor:
    """The shift the depthwise branch adds before its activation (eval)."""
    dw = sep.module.depthwise_conv
    if dw.with_norm:
        norm = f'{sep.name}.depthwise_conv.{dw.norm_name}'
        gamma, beta = state[f'{norm}.weight'], state[f'{norm}.bias']
        mean, var = state[f'{norm}.running_mean'], state[f'{norm}.running_var']
        # BN(z) = scale * z + (beta - scale * mean), scale = 1 by design.
        return beta - gamma / (var + dw.norm.eps).sqrt() * mean
    bias = state.get(f'{sep.name}.depthwise_conv.conv.bias')
    return bias if bias is not None else torch.zeros(
        state[f'{sep.name}.depthwise_conv.conv.weight'].shape[0])


def prediction_agreement(dense: nn.Module, feather: nn.Module,
                         batches: List[dict],
                         score_thr: float = 0.3) -> Dict[str, float]:
    """How many confident dense detections the converted model reproduces
    (same label, box IoU >= 0.5), and how close the scores are."""
    from mmdet.structures.bbox import bbox_overlaps
    matched = total = 0
    score_diff = []
    with torch.no_grad():
        for batch in batches:
            # predict() writes into (and returns) the batch's data samples:
            # keep the dense result before the second call replaces it.
            r = dense.predict(batch['inputs'],
                              batch['data_samples'])[0].pred_instances
            o = feather.predict(batch['inputs'],
                                batch['data_samples'])[0].pred_instances
            keep = r.scores >= score_thr
            total += int(keep.sum())
            if not keep.any() or len(o) == 0:
                continue
            ious = bbox_overlaps(r.bboxes[keep], o.bboxes)
            ious[r.labels[keep][:, None] != o.labels[None]] = 0
            best, idx = ious.max(1)
            matched += int((best >= 0.5).sum())
            score_diff += (r.scores[keep] - o.scores[idx]).abs()[
                best >= 0.5].tolist()
    return dict(
        dense_detections=total,
        matched=matched,
        recall=matched / total if total else float('nan'),
        mean_abs_score_diff=float(np.mean(score_diff)) if score_diff else
        float('nan'))


def convert_checkpoint(dense_ckpt: str,
                       feather_cfg: Config,
                       calib_images: int = 0,
                       image_files: Optional[Sequence[str]] = None,
                       max_not_mapped: Optional[int] = None
                       ) -> Tuple[Dict[str, Tensor], ConversionReport, dict]:
    """Convert a dense checkpoint for ``feather_cfg``'s model.

    Args:
        dense_ckpt (str): mmdet Mask R-CNN checkpoint or ResNet state dict.
        feather_cfg (Config): The Feather config.
        calib_images (int): 0 for data-free; else that many training images
            of the config's dataset refine every layer.
        image_files (Sequence[str], optional): Calibration images instead.

        max_not_mapped (int, optional): Refuse when more model tensors
            than this have no dense counterpart. Defaults to None (report).

    Returns:
        tuple: the complete Feather state dict (what has no dense
        counterpart keeps its normal init, so ``load_from`` accepts it), the
        report, and the measurements (per-layer output errors, prediction
        agreement).

    Raises:
        ConversionError: nothing of the checkpoint maps onto the model, or
            more than ``max_not_mapped`` tensors do not.
    """
    import feather_mmdet  # noqa: F401  (registry, safe loader)
    from mmdet.registry import MODELS
    init_default_scope(feather_cfg.get('default_scope', 'mmdet'))
    if not osp.isfile(dense_ckpt):
        raise FileNotFoundError(f'dense checkpoint {dense_ckpt!r} does not '
                                'exist')
    install_safe_checkpoint_loader()
    ckpt = _load_checkpoint(dense_ckpt, map_location='cpu')
    dense_state = ckpt.get('state_dict', ckpt)
    model = MODELS.build(feather_cfg.model)
    model.init_weights()
    state, report = convert_dense_state_dict(model, dense_state)
    if not report.copied and not report.decomposed:
        raise ConversionError(
            f'{dense_ckpt!r}: not one tensor of it maps onto the Feather '
            'model (0 copied, 0 decomposed); give a dense Mask R-CNN R50 or '
            'ResNet checkpoint of this architecture.')
    if max_not_mapped is not None and len(report.not_mapped) > max_not_mapped:
        raise ConversionError(
            f'{dense_ckpt!r}: {len(report.not_mapped)} tensors of the model '
            f'have no counterpart in it (allowed {max_not_mapped}), e.g. '
            f'{report.not_mapped[:5]}; is it a checkpoint of another '
            'architecture?')
    measurements: dict = dict(mode='data-free')
    if calib_images or image_files:
        measurements['mode'] = 'calibrated'
        dense_model = MODELS.build(dense_twin(feather_cfg).model).eval()
        dense_state = dict(dense_state)
        consume_prefix_in_state_dict_if_present(dense_state, 'module.')
        missing, unexpected = dense_model.load_state_dict(
            dense_state, strict=False)
        if missing:
            raise ValueError(
                f'calibration needs the whole dense detector; {dense_ckpt!r} '
                f'lacks {len(missing)} of its tensors (e.g. {missing[:3]}). '
                'Use data-free mode for a backbone-only checkpoint.')
        model.eval()
        batches = calibration_batches(feather_cfg, model, calib_images,
                                      image_files)
        full = model.state_dict()
        full.update(state)
        measurements['layers'] = calibrate(
            model, dense_model, normalize_dense_keys(model, dense_state,
                                                     False), full, batches)
        state = {k: full[k] for k in state}
        load_converted(model, state, report)
        measurements['agreement'] = prediction_agreement(
            dense_model, model.eval(), batches)
    complete = model.state_dict()
    complete.update(state)
    return complete, report, measurements
