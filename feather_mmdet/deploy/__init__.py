from .export import (META_KEY, OUTPUT_NAMES, ExportError, export_onnx,
                     preprocess_meta)
from .quantize import quantize_int8

__all__ = [
    'META_KEY', 'OUTPUT_NAMES', 'ExportError', 'export_onnx',
    'preprocess_meta', 'quantize_int8'
]
