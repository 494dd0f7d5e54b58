# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Static post-training int8 quantization of an exported model with
onnxruntime's quantization tools, calibrated on a few real images."""
import json
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


#: Activation / weight types: onnxruntime's docs name U8S8 the fast path
#: on x86 AVX2 (VPMADDUBSW, with ``reduce_range`` against its saturation),
#: S8S8 the default for QDQ, U8U8 the exact but slower one.
INT8_TYPES = {'u8s8': ('QUInt8', 'QInt8'), 's8s8': ('QInt8', 'QInt8'),
              'u8u8': ('QUInt8', 'QUInt8')}
FORMATS = ('qdq', 'qoperator')


def quantize_int8(fp32_file: str,
                  out_file: str,
                  calib_images: Sequence[str],
                  per_channel: bool = True,
                  quant_format: str = 'qoperator',
                  types: str = 'u8s8',
                  reduce_range: bool = False) -> Dict[str, float]:
    """Quantize ``fp32_file`` to int8 (static) into ``out_file``.

    Args:
        fp32_file (str): ONNX file from :func:`export_onnx`.
        out_file (str): Where the int8 model goes (written atomically).
        calib_images (Sequence[str]): Images whose activations set the
            quantization ranges (a few training images suffice).
        per_channel (bool): Per-output-channel weight scales (more accurate
            for depthwise convs, whose channels differ widely).
        quant_format (str): ``'qoperator'`` (QLinearConv etc. in the file
            itself; the default: 0.54x fp32 latency for Feather at 640 on an
            AVX2 CPU without VNNI) or ``'qdq'`` (QuantizeLinear/
            DequantizeLinear around float ops; onnxruntime fuses what it can,
            which there was slower than fp32).
        types (str): Activation/weight types, a key of :data:`INT8_TYPES`.
        reduce_range (bool): 7-bit weights (U8S8 on CPUs without VNNI).

    Returns:
        dict: ``fp32_mb``, ``int8_mb`` and their ``ratio``.
    """
    if quant_format not in FORMATS:
        raise ValueError(f'quant_format={quant_format!r}: use one of '
                         f'{FORMATS}')
    if types not in INT8_TYPES:
        raise ValueError(f'types={types!r}: use one of {list(INT8_TYPES)}')
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
        if quant_format == 'qoperator':
            # onnxruntime's recommended pre-processing (shape inference,
            # constant folding): QLinearConv needs its bias as a constant.
            from onnxruntime.quantization.shape_inference import \
                quant_pre_process
            pre = osp.join(tmp, 'fp32_pre.onnx')
            quant_pre_process(fp32_13, pre, skip_symbolic_shape=True)
            fp32_13 = pre
        tmp_file = osp.join(tmp, 'int8.onnx')
        quantize_static(
            fp32_13,
            tmp_file,
            _ImageReader(detector, calib_images),
            quant_format=QuantFormat.QDQ if quant_format == 'qdq' else
            QuantFormat.QOperator,
            op_types_to_quantize=list(QUANT_OPS),
            per_channel=per_channel,
            reduce_range=reduce_range,
            activation_type=getattr(QuantType, INT8_TYPES[types][0]),
            weight_type=getattr(QuantType, INT8_TYPES[types][1]),
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


#: Node types that run a convolution in integer arithmetic once onnxruntime
#: has optimised the graph, and those that run it in float.
INT8_CONV_OPS = ('QLinearConv', 'ConvInteger')
FLOAT_CONV_OPS = ('Conv', 'FusedConv', 'NchwcConv')


def count_int8_convs(model_file: str) -> Dict[str, int]:
    """How many convolutions of a model run in int8 once its runtime has
    optimised it: onnxruntime's optimised graph for an ONNX file (a QDQ pair
    it cannot fuse leaves DQ -> float Conv -> Q, i.e. a float conv), the
    kernels OpenVINO's CPU plugin picked for an IR (``.xml``).

    Returns:
        dict: ``int8`` and ``float`` conv counts (transposed convs apart).
    """
    if model_file.endswith('.xml'):
        return _count_openvino_int8_convs(model_file)
    import onnx
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = \
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # what Detector runs
        options.optimized_model_filepath = osp.join(tmp, 'optimized.onnx')
        ort.InferenceSession(model_file, options,
                             providers=['CPUExecutionProvider'])
        graph = onnx.load(options.optimized_model_filepath).graph
    ops = [node.op_type for node in graph.node]
    return dict(int8=sum(op in INT8_CONV_OPS for op in ops),
                float=sum(op in FLOAT_CONV_OPS for op in ops))


def _count_openvino_int8_convs(xml_file: str) -> Dict[str, int]:
    """Convs of OpenVINO's compiled CPU graph by kernel precision (its
    ``primitiveType``, e.g. ``brgconv_avx512_1x1_I8``), compiled as
    ``feather_runtime.Detector`` compiles it (fp32 inference precision)."""
    import openvino as ov
    compiled = ov.Core().compile_model(
        xml_file, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
    kernels = []
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        # Depthwise convs are 'Convolution' here too; deconvs are not.
        if info['layerType'].astype(str) == 'Convolution':
            kernels.append(info['primitiveType'].astype(str))
    int8 = sum(k.endswith('_I8') for k in kernels)
    return dict(int8=int8, float=len(kernels) - int8)


def quantize_int8_openvino(fp32_file: str,
                           out_file: str,
                           calib_images: Sequence[str],
                           preset: str = 'performance') -> Dict[str, float]:
    """Post-training int8 quantization with OpenVINO's NNCF, to an OpenVINO
    IR (``out_file`` ``.xml`` + its ``.bin``) that the runtime's OpenVINO
    backend runs (``Detector(out_file, backend='openvino')``).

    OpenVINO runs int8 convolutions on CPUs without VNNI too (its own
    kernels), where onnxruntime's QDQ graphs often stay float.

    Args:
        fp32_file (str): ONNX file from :func:`export_onnx`.
        out_file (str): ``.xml`` path of the int8 IR (written atomically).
        calib_images (Sequence[str]): Calibration images.
        preset (str): NNCF preset, ``'performance'`` (symmetric) or
            ``'mixed'`` (asymmetric activations).

    Returns:
        dict: ``fp32_mb``, ``int8_mb`` (the ``.bin``) and their ``ratio``.
    """
    import nncf
    import openvino as ov
    from openvino.passes import ConstantFolding, Manager

    from feather_runtime import Detector
    from feather_runtime.detector import META_KEY
    if not calib_images:
        raise ValueError('quantize_int8_openvino needs at least one '
                         'calibration image')
    if not out_file.endswith('.xml'):
        raise ValueError(f'{out_file!r}: an OpenVINO IR is a .xml file (with '
                         'its .bin next to it); name it *.xml')
    detector = Detector(fp32_file)
    blobs = [detector.preprocess(_ImageReader._read(p))[0]
             for p in calib_images]
    model = ov.Core().read_model(fp32_file)
    # ONNX's grouped Conv arrives as GroupConvolution whose weights pass a
    # Reshape; unfolded, NNCF gives those weights [C, 1, 1, 1, k] ranges
    # instead of one per channel, and OpenVINO then runs every depthwise
    # conv in fp32 between int8 ones (plus the reorders around them).
    folding = Manager()
    folding.register_pass(ConstantFolding())
    folding.run_passes(model)
    quantized = nncf.quantize(
        model, nncf.Dataset(blobs),
        preset=nncf.QuantizationPreset(preset),
        subset_size=len(blobs),
        # Convolutions only: NNCF's statistics of the box/score arithmetic
        # (tensors of a dynamic detection count) fail to validate, and that
        # arithmetic decides the boxes.
        ignored_scope=nncf.IgnoredScope(
            types=['MatMul', 'Add', 'Multiply', 'Subtract', 'Divide',
                   'Maximum', 'Minimum', 'Concat', 'Gather'], validate=False))
    # The runtime's preprocessing metadata travels in the IR's rt_info.
    quantized.set_rt_info(json.dumps(detector.meta), ['framework', META_KEY])
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tmp_xml = osp.join(tmp, 'int8.xml')
        ov.save_model(quantized, tmp_xml)
        os.replace(tmp_xml[:-4] + '.bin', out_file[:-4] + '.bin')
        os.replace(tmp_xml, out_file)
    fp32_mb = osp.getsize(fp32_file) / 2**20
    int8_mb = osp.getsize(out_file[:-4] + '.bin') / 2**20
    return dict(fp32_mb=fp32_mb, int8_mb=int8_mb, ratio=int8_mb / fp32_mb)
