# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Static post-training int8 quantization of an exported model with
onnxruntime's quantization tools, calibrated on a few real images."""
import os
import os.path as osp
import tempfile
from typing import Dict, Iterator, Optional, Sequence

import cv2

#: Operators whose weights are quantized. RoiAlign, NMS, TopK and the
#: box/mask post-processing stay float.
QUANT_OPS = ('Conv', 'MatMul', 'Gemm')


class _ImageReader:
    """onnxruntime ``CalibrationDataReader`` over preprocessed images."""

    def __init__(self, detector, images: Sequence[str]) -> None:
        self._blobs: Iterator = (detector.preprocess(self._read(p))[0]
                                 for p in images)
        self._input = detector._session.get_inputs()[0].name

    @staticmethod
    def _read(path: str):
        img = cv2.imread(path)
        if img is None:
            raise FileNotFoundError(f'calibration image {path!r} cannot be '
                                    'read')
        return img

    def get_next(self) -> Optional[Dict]:
        blob = next(self._blobs, None)
        return None if blob is None else {self._input: blob}


def quantize_int8(fp32_file: str,
                  out_file: str,
                  calib_images: Sequence[str],
                  per_channel: bool = True) -> Dict[str, float]:
    """Quantize ``fp32_file`` to int8 (QDQ, static) into ``out_file``.

    Args:
        fp32_file (str): ONNX file from :func:`export_onnx`.
        out_file (str): Where the int8 model goes (written atomically).
        calib_images (Sequence[str]): Images whose activations set the
            quantization ranges (a few training images suffice).
        per_channel (bool): Per-output-channel weight scales (more accurate
            for depthwise convs, whose channels differ widely).

    Returns:
        dict: ``fp32_mb``, ``int8_mb`` and their ``ratio``.
    """
    import onnx
    import onnx.version_converter
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    from feather_runtime import Detector
    if not calib_images:
        raise ValueError('quantize_int8 needs at least one calibration image')
    detector = Detector(fp32_file)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        # Per-channel DequantizeLinear needs opset >= 13; the export is 11
        # (mmdeploy's opset). 11 -> 13 changes no operator used here.
        fp32_13 = osp.join(tmp, 'fp32_opset13.onnx')
        onnx.save(
            onnx.version_converter.convert_version(
                onnx.load(fp32_file), 13), fp32_13)
        tmp_file = osp.join(tmp, 'int8.onnx')
        quantize_static(
            fp32_13,
            tmp_file,
            _ImageReader(detector, calib_images),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANT_OPS),
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax)
        # Keep the preprocessing metadata of the fp32 file.
        model = onnx.load(tmp_file)
        del model.metadata_props[:]
        model.metadata_props.extend(
            onnx.load(fp32_file, load_external_data=False).metadata_props)
        onnx.save(model, tmp_file)
        os.replace(tmp_file, out_file)
    fp32_mb = osp.getsize(fp32_file) / 2**20
    int8_mb = osp.getsize(out_file) / 2**20
    return dict(fp32_mb=fp32_mb, int8_mb=int8_mb, ratio=int8_mb / fp32_mb)
