"""Run an ONNX file exported by ``tools/export_onnx.py`` with onnxruntime or
OpenVINO: numpy + OpenCV only, no torch, no mmcv, no mmdet.

    from feather_runtime import Detector
    det = Detector('feather.onnx')               # or backend='openvino'
    result = det(cv2.imread('photo.jpg'))        # bboxes, scores, labels, masks

Copy this folder and the ``.onnx`` file to a device; that is all it needs.
"""
from .detector import BACKENDS, Detector, Result
from .evaluate import evaluate_coco
from .images import IMAGE_EXTS, list_images, read_image
from .masks import paste_masks
from .visualize import draw_result, result_to_json

__all__ = [
    'BACKENDS', 'Detector', 'Result', 'evaluate_coco', 'paste_masks',
    'draw_result', 'result_to_json', 'IMAGE_EXTS', 'list_images', 'read_image'
]
