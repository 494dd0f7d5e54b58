"""ONNX detector: preprocessing of the config's test pipeline, inference,
and post-processing back to the original image."""
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .masks import paste_masks

BACKENDS = ('onnxruntime', 'openvino')
META_KEY = 'feather_mmdet'  # written by feather_mmdet.deploy.export


@dataclass
class Result:
    """Detections in original-image pixels, sorted by score."""

    bboxes: np.ndarray  # (N, 4) float32, x1 y1 x2 y2
    scores: np.ndarray  # (N,) float32
    labels: np.ndarray  # (N,) int64
    masks: np.ndarray  # (N, H, W) bool

    def __len__(self) -> int:
        return len(self.scores)

    def above(self, score_thr: float) -> 'Result':
        """Only the detections with score >= ``score_thr``."""
        keep = self.scores >= score_thr
        return Result(self.bboxes[keep], self.scores[keep],
                      self.labels[keep], self.masks[keep])


def read_metadata(model_path: str, custom_map: Optional[Dict] = None
                  ) -> Dict:
    """The preprocessing metadata stored in an exported file.

    Args:
        model_path (str): The ``.onnx`` file.
        custom_map (dict, optional): Its custom metadata, if the caller has
            it already (onnxruntime's ``get_modelmeta()``); otherwise read
            with onnxruntime, which every backend here installs with.
    """
    if custom_map is None:
        import onnxruntime as ort
        custom_map = ort.InferenceSession(
            model_path, providers=['CPUExecutionProvider']).get_modelmeta(
            ).custom_metadata_map
    if META_KEY not in custom_map:
        raise ValueError(
            f'{model_path!r} has no {META_KEY!r} metadata: export it with '
            'tools/export_onnx.py, which records how to preprocess images')
    return json.loads(custom_map[META_KEY])


def _openvino_metadata(model) -> Optional[Dict]:
    """The ONNX file's metadata as OpenVINO's ONNX frontend keeps it (in
    ``rt_info['framework']``); None if this OpenVINO does not keep it."""
    key = ['framework', META_KEY]
    if model.has_rt_info(key):
        return {META_KEY: model.get_rt_info(key).astype(str)}
    return None


class Detector:
    """An exported detector on onnxruntime (default) or OpenVINO.

    Args:
        model_path (str): ``.onnx`` file from ``tools/export_onnx.py``.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        threads (int, optional): Intra-op threads (default: the runtime's).
    """

    def __init__(self,
                 model_path: str,
                 backend: str = 'onnxruntime',
                 threads: Optional[int] = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got '
                             f'{backend!r}')
        self.backend = backend
        if backend == 'onnxruntime':
            import onnxruntime as ort
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            self._session = ort.InferenceSession(
                model_path, options, providers=['CPUExecutionProvider'])
            self._input = self._session.get_inputs()[0].name
            self.meta = read_metadata(
                model_path,
                self._session.get_modelmeta().custom_metadata_map)
        else:
            import openvino as ov
            core = ov.Core()
            # OpenVINO's CPU plugin may default to bf16 on this hardware;
            # the exported model is fp32 and parity is checked in fp32.
            config = {'INFERENCE_PRECISION_HINT': 'f32'}
            if threads:
                config['INFERENCE_NUM_THREADS'] = threads
            model = core.read_model(model_path)
            self.meta = read_metadata(model_path, _openvino_metadata(model))
            self._compiled = core.compile_model(model, 'CPU', config)
        self.classes: List[str] = self.meta['classes']

    def preprocess(self, img: np.ndarray) -> Tuple[np.ndarray, Dict]:
        """Resize (as mmdet's ``Resize``), convert colour, normalise and pad
        a BGR ``uint8`` image to the model's static input.

        Returns:
            tuple: ``(1, 3, H, W)`` float32 blob and a dict with
            ``ori_shape``, ``img_shape`` (resized) and ``scale_factor``.
        """
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or \
                img.ndim != 3 or img.shape[2] != 3:
            kind = f'{img.dtype} array of shape {img.shape}' if isinstance(
                img, np.ndarray) else type(img).__name__
            raise ValueError(
                f'expected a BGR uint8 image of shape (H, W, 3) as '
                f'cv2.imread returns it, got a {kind}; convert it first '
                '(e.g. (img * 255).round().astype(np.uint8) for floats in '
                '0..1, cv2.cvtColor for gray or BGRA)')
        meta = self.meta
        h, w = img.shape[:2]
        in_h, in_w = meta['input_shape']
        if meta['keep_ratio']:
            # mmdet's rule (long edge <= max(scale), short <= min(scale)) ...
            long_edge, short_edge = max(meta['scale']), min(meta['scale'])
            scale = min(long_edge / max(h, w), short_edge / min(h, w))
            # ... unless the static input cannot hold the result (e.g. a
            # portrait photo for a landscape input): then fit inside it.
            if h * scale > in_h + 0.5 or w * scale > in_w + 0.5:
                scale = min(in_h / h, in_w / w)
            new_w, new_h = int(w * scale + 0.5), int(h * scale + 0.5)
        else:
            new_w, new_h = meta['scale']
        new_w, new_h = min(new_w, in_w), min(new_h, in_h)
        resized = cv2.resize(
            img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        canvas = np.empty((in_h, in_w, 3), np.float32)
        canvas[:] = np.asarray(meta['pad_value'], np.float32)[::-1] \
            if meta['bgr_to_rgb'] else meta['pad_value']
        canvas[:new_h, :new_w] = resized
        if meta['bgr_to_rgb']:
            canvas = canvas[..., ::-1]
        canvas = (canvas - np.asarray(meta['mean'], np.float32)) / \
            np.asarray(meta['std'], np.float32)
        blob = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None])
        info = dict(
            ori_shape=(h, w),
            img_shape=(new_h, new_w),
            scale_factor=(new_w / w, new_h / h))
        return blob, info

    def infer(self, blob: np.ndarray) -> List[np.ndarray]:
        """Run the graph: ``[dets (1,N,5), labels (1,N), masks (1,N,...)]``."""
        if self.backend == 'onnxruntime':
            return self._session.run(None, {self._input: blob})
        outputs = self._compiled(blob)
        return [outputs[port] for port in self._compiled.outputs]

    def postprocess(self, outputs: List[np.ndarray], info: Dict) -> Result:
        """Boxes back to original pixels, masks pasted and thresholded."""
        dets, labels, masks = (o[0] for o in outputs)
        new_h, new_w = info['img_shape']
        boxes = dets[:, :4].copy()
        # mmdet clips to the resized image before rescaling.
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, new_w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, new_h)
        sx, sy = info['scale_factor']
        boxes /= np.array([sx, sy, sx, sy], np.float32)
        h, w = info['ori_shape']
        thr = self.meta['mask_thr_binary']
        if self.meta.get('mask_mode', 'roi') == 'roi':
            pasted = paste_masks(masks, boxes, h, w, thr)
        else:  # full-input masks (single-stage heads)
            in_h, in_w = self.meta['input_shape']
            pasted = np.zeros((len(masks), h, w), bool)
            for i, m in enumerate(masks):
                m = cv2.resize(m.astype(np.float32), (in_w, in_h))
                m = cv2.resize(m[:new_h, :new_w], (w, h))
                pasted[i] = m >= thr
        return Result(boxes.astype(np.float32), dets[:, 4].astype(np.float32),
                      labels.astype(np.int64), pasted)

    def __call__(self, img: np.ndarray) -> Result:
        """Detect on one BGR ``uint8`` image (as ``cv2.imread`` gives)."""
        blob, info = self.preprocess(img)
        return self.postprocess(self.infer(blob), info)
