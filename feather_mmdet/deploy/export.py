# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Export a detector config (+ checkpoint) to one ONNX file that holds the
whole model: normalised, padded image in; boxes+scores, labels and
per-detection masks out. Only standard ONNX operators (``RoiAlign``,
``NonMaxSuppression``, ``TopK``, ...), so any runtime can load it.

The export goes through mmdeploy's rewriters (they target
``TwoStageDetector``, ``RPNHead``, ``StandardRoIHead``, ``FCNMaskHead``, ...;
this package's modules subclass those and inherit them), with the shims of
:mod:`.mmdeploy_compat`. Everything the runtime needs to preprocess an image
the way the config's test pipeline does is stored in the file's metadata
(``feather_runtime`` reads it), so the ``.onnx`` file is all a device needs.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from ..utils.checkpoint import install_safe_checkpoint_loader
from ..utils.config import load_config
from .mmdeploy_compat import mmdeploy_context

#: Key of the preprocessing/label metadata in the ONNX ``metadata_props``.
META_KEY = 'feather_mmdet'
#: Output names of the exported graph.
OUTPUT_NAMES = ('dets', 'labels', 'masks')
#: ONNX domains any runtime implements (the default one).
STANDARD_DOMAINS = ('', 'ai.onnx')


class ExportError(RuntimeError):
    """A config could not be exported (the message says why)."""


def _test_resize(cfg: Config) -> Tuple[Tuple[int, int], bool, Optional[int]]:
    """``(scale (w, h), keep_ratio, pipeline pad value)`` of the test
    pipeline."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    resize = next((t for t in pipeline if t['type'] == 'Resize'), None)
    if resize is None:
        raise ExportError('the test pipeline has no Resize step; pass --shape '
                          'and resize images yourself')
    pad = next((t for t in pipeline if t['type'] == 'Pad'), None)
    pad_val = None
    if pad is not None:
        pad_val = pad.get('pad_val', {})
        pad_val = pad_val.get('img', 0) if isinstance(pad_val,
                                                      dict) else pad_val
    scale = resize['scale']
    scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
    return scale, bool(resize.get('keep_ratio', False)), pad_val


def preprocess_meta(cfg: Config,
                    shape: Optional[Sequence[int]] = None) -> Dict:
    """What the runtime needs to reproduce the test pipeline + data
    preprocessor: resize, colour order, normalisation, padding, classes."""
    scale, keep_ratio, pad_val = _test_resize(cfg)
    shape_given = shape is not None
    prep = cfg.model.data_preprocessor
    divisor = prep.get('pad_size_divisor', 1) or 1
    if shape is None:
        # Largest resized image, padded like the data preprocessor does.
        w, h = max(scale), min(scale)
        if not keep_ratio:
            w, h = scale
        shape = (int(np.ceil(h / divisor) * divisor),
                 int(np.ceil(w / divisor) * divisor))
    h, w = map(int, shape)
    if h < 1 or w < 1:
        raise ExportError(
            f'input shape {h}x{w}: give a positive height and width '
            '(--shape H W), e.g. --shape 640 640')
    if shape_given:
        # Images are resized to fit the requested input: to exactly (w, h)
        # without keep_ratio; with it, mmdet's (long, short) edge limits.
        scale = (w, h) if not keep_ratio or w >= h else (h, w)
    mean = [float(v) for v in prep.get('mean', [0, 0, 0])]
    std = [float(v) for v in prep.get('std', [1, 1, 1])]
    # mmdet pads after normalising with 0, i.e. with the mean in pixel
    # space; a Pad step in the pipeline (RTMDet) pads the raw image.
    if pad_val is None:
        pad_value = mean
    elif isinstance(pad_val, (int, float)):
        pad_value = [float(pad_val)] * 3
    else:
        pad_value = [float(v) for v in pad_val]
    rcnn = cfg.model.get('test_cfg', {}).get('rcnn', {})
    test_cfg = rcnn or cfg.model.get('test_cfg', {})
    classes = cfg.get('test_dataloader', {}).get('dataset', {}).get(
        'metainfo', {}).get('classes')
    if classes is None:
        from mmdet.datasets import CocoDataset
        classes = CocoDataset.METAINFO['classes']
    return dict(
        input_shape=[h, w],
        scale=[int(scale[0]), int(scale[1])],
        keep_ratio=keep_ratio,
        bgr_to_rgb=bool(prep.get('bgr_to_rgb', False)),
        mean=mean,
        std=std,
        pad_value=pad_value,
        mask_thr_binary=float(test_cfg.get('mask_thr_binary', 0.5)),
        classes=list(classes))


def deploy_config(meta: Dict, score_thr: float, max_per_img: int) -> Config:
    """mmdeploy's static onnxruntime instance-segmentation config (the
    content of its ``instance-seg_onnxruntime_static.py``), for our shape.
    Post-processing thresholds are used where the model's ``test_cfg`` does
    not set them."""
    h, w = meta['input_shape']
    return Config(
        dict(
            onnx_config=dict(
                type='onnx',
                export_params=True,
                keep_initializers_as_inputs=False,
                opset_version=11,
                save_file='end2end.onnx',
                input_names=['input'],
                output_names=list(OUTPUT_NAMES),
                input_shape=[w, h],
                optimize=False),
            codebase_config=dict(
                type='mmdet',
                task='ObjectDetection',
                model_type='end2end',
                post_processing=dict(
                    score_threshold=score_thr,
                    confidence_threshold=0.005,
                    iou_threshold=0.5,
                    max_output_boxes_per_class=200,
                    pre_top_k=5000,
                    keep_top_k=max_per_img,
                    background_label_id=-1,
                    export_postprocess_mask=False)),
            backend_config=dict(type='onnxruntime')))


def _without_pretrained(node):
    """A copy of a model config without ``init_cfg=dict(type='Pretrained')``
    entries (mmdet's RTMDet configs point at URLs; nothing may download)."""
    if isinstance(node, dict):
        return type(node)({
            k: None if k == 'init_cfg' and isinstance(v, dict)
            and v.get('type') == 'Pretrained' else _without_pretrained(v)
            for k, v in node.items()
        })
    if isinstance(node, list):
        return [_without_pretrained(v) for v in node]
    return node


def build_detector(cfg: Config,
                   checkpoint: Optional[str] = None) -> torch.nn.Module:
    """Build the model of ``cfg`` in eval mode; random init without a
    checkpoint, else a strict load (a checkpoint of another architecture is
    an error, not a silent partial load)."""
    import feather_mmdet  # noqa: F401  (registers modules, safe loader)
    from mmdet.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'checkpoint {checkpoint!r} does not exist; give the .pth file '
            'written by training, or no --checkpoint for random weights')
    model = MODELS.build(_without_pretrained(cfg.model))
    if checkpoint is None:
        model.init_weights()
    else:
        install_safe_checkpoint_loader()
        try:
            ckpt = load_checkpoint(
                model, checkpoint, map_location='cpu', strict=True)
        except RuntimeError as e:
            raise ExportError(
                f'checkpoint {checkpoint!r} does not match the model of the '
                f'config (trained with another config?): {e}') from e
        meta_classes = ckpt.get('meta', {}).get('dataset_meta', {}).get(
            'classes')
        if meta_classes:
            model.dataset_meta = dict(classes=meta_classes)
    return model.eval()


def _check_domains(path: str) -> None:
    import onnx
    graph = onnx.load(path, load_external_data=False).graph
    custom = sorted({n.domain for n in graph.node} - set(STANDARD_DOMAINS))
    if custom:
        raise ExportError(
            f'the exported graph uses non-standard operator domains {custom};'
            ' other runtimes could not load it')


def _add_metadata(path: str, meta: Dict) -> None:
    import onnx
    model = onnx.load(path)
    entry = model.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(meta)
    onnx.save(model, path)


def export_onnx(config: Union[str, Config],
                out_file: str,
                checkpoint: Optional[str] = None,
                shape: Optional[Sequence[int]] = None,
                score_thr: float = 0.05,
                max_per_img: int = 100) -> Dict:
    """Export a detector to ``out_file`` (written atomically).

    Args:
        config (str | Config): Config path, ``mmdet::`` name or Config.
        out_file (str): Path of the ``.onnx`` file. Nothing is written there
            unless the export succeeds.
        checkpoint (str, optional): Weights; random init when None (for
            benchmarking).
        shape (Sequence[int], optional): Static input ``(H, W)``. Defaults
            to the test pipeline's resize scale, padded to the model's
            ``pad_size_divisor``.
        score_thr (float): Score threshold where the config's ``test_cfg``
            sets none. Defaults to 0.05.
        max_per_img (int): Detections kept where ``test_cfg`` sets none.

    Returns:
        dict: The metadata stored in the file (input shape, normalisation,
        classes, ...).

    Raises:
        FileNotFoundError: Missing config or checkpoint.
        ExportError: The model cannot be exported (the reason is chained).
    """
    cfg = load_config(config)
    meta = preprocess_meta(cfg, shape)
    model = build_detector(cfg, checkpoint)
    if getattr(model, 'dataset_meta', None):
        meta['classes'] = list(model.dataset_meta['classes'])
    meta['config'] = config if isinstance(config, str) else cfg.filename
    meta['mask_mode'] = 'roi' if getattr(model, 'with_mask', False) and \
        hasattr(model, 'roi_head') else 'image'
    h, w = meta['input_shape']

    from mmdet.structures import DetDataSample
    from mmdeploy.apis.onnx import export
    from mmdeploy.codebase import import_codebase
    from mmdeploy.utils import Codebase

    from .postprocess import mmdet_postprocess
    import_codebase(Codebase.MMDET)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(h, w),
            ori_shape=(h, w),
            pad_shape=(h, w),
            batch_input_shape=(h, w),
            scale_factor=(1., 1.)))
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        prefix = osp.join(tmp, 'end2end')
        try:
            with mmdeploy_context(), mmdet_postprocess():
                export(
                    model,
                    torch.zeros(1, 3, h, w),
                    prefix,
                    backend='onnxruntime',
                    input_metas={
                        'data_samples': [sample],
                        'mode': 'predict'
                    },
                    context_info=dict(
                        deploy_cfg=deploy_config(meta, score_thr,
                                                 max_per_img)),
                    input_names=['input'],
                    output_names=list(OUTPUT_NAMES),
                    opset_version=11)
        except Exception as e:
            raise ExportError(
                f'{meta["config"]} could not be exported to ONNX '
                f'({type(e).__name__}: {e}). Supported: mmdet detectors '
                'that mmdeploy 1.3 rewrites (Mask R-CNN family, RTMDet-Ins, '
                '...) without DCN or other mmcv-only ops.') from e
        _check_domains(prefix + '.onnx')
        _add_metadata(prefix + '.onnx', meta)
        os.replace(prefix + '.onnx', out_file)
    return meta
