from .export import (META_KEY, OUTPUT_NAMES, ExportError, export_onnx,
                     preprocess_meta)
from .quantize import count_int8_convs, quantize_int8, quantize_int8_openvino

__all__ = [
    'META_KEY', 'OUTPUT_NAMES', 'ExportError', 'export_onnx',
    'preprocess_meta', 'quantize_int8', 'count_int8_convs',
    'quantize_int8_openvino'
]
