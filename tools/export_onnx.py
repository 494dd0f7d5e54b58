"""Export a detector config (+ checkpoint) to one ONNX file; optionally an
int8 copy.

    python tools/export_onnx.py CONFIG [--checkpoint CKPT] --out FILE.onnx \
        [--shape H W] [--int8 FILE_int8.onnx --calib-images DIR_OR_FILES...]

The file holds the whole detector (input: a normalised, padded image of the
static shape; outputs: dets = boxes + score, labels, masks) with only
standard ONNX operators, plus the preprocessing metadata the torch-free
runtime (``feather_runtime``, ``tools/infer.py --backend onnxruntime``)
reads. Without --checkpoint the weights are random (for benchmarking).
Works for this package's configs, mmdet's Mask R-CNN and RTMDet-Ins
(``mmdet::rtmdet/rtmdet-ins_tiny_8xb32-300e_coco.py``).
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional

from mmengine.config import DictAction

from feather_mmdet.deploy import (ExportError, count_int8_convs, export_onnx,
                                  quantize_int8, quantize_int8_openvino)
from feather_mmdet.utils import load_config
from feather_runtime.images import list_images


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config path or mmdet:: name')
    parser.add_argument('--checkpoint', help='weights (default: random)')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument(
        '--shape', type=int, nargs=2, metavar=('H', 'W'),
        help='static input size (default: the test resize scale, padded)')
    parser.add_argument('--int8', help='also write a static int8 copy here')
    parser.add_argument(
        '--calib-images', nargs='+', default=[],
        help='images or folders for int8 calibration')
    parser.add_argument('--num-calib', type=int, default=8)
    parser.add_argument(
        '--int8-format', default='qoperator', choices=['qdq', 'qoperator'],
        help='qoperator (default): the int8 file that is faster than fp32 '
        'in onnxruntime on AVX2 CPUs without VNNI (docs/benchmark.md); qdq '
        'leaves most convs in float there')
    parser.add_argument('--int8-types', default='u8s8',
                        choices=['u8s8', 's8s8', 'u8u8'],
                        help='activation/weight types')
    parser.add_argument('--reduce-range', action='store_true',
                        help='7-bit weights (U8S8 on CPUs without VNNI)')
    parser.add_argument(
        '--int8-openvino', metavar='FILE.xml',
        help='also write an OpenVINO int8 IR (NNCF post-training '
        'quantization), for `--backend openvino`')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, as for mmdet tools/test.py')
    args = parser.parse_args(argv)
    # Everything that can be wrong with the arguments, before any work.
    if args.shape and min(args.shape) < 1:
        parser.error(f'--shape {args.shape[0]} {args.shape[1]}: give a '
                     'positive height and width, e.g. --shape 640 640')
    for flag, path in (('--out', args.out), ('--int8', args.int8)):
        if path and osp.isdir(path):
            parser.error(f'{flag} {path!r} is a folder; give a file name '
                         'ending in .onnx')
    if args.int8 and osp.abspath(args.int8) == osp.abspath(args.out):
        parser.error(f'--int8 and --out are both {args.out!r}; the int8 copy '
                     'would replace the fp32 file: give it another name')
    if args.int8_openvino and not args.int8_openvino.endswith('.xml'):
        parser.error(f'--int8-openvino {args.int8_openvino!r}: an OpenVINO IR '
                     'is a .xml file (its .bin is written next to it)')
    calib = []
    if args.int8 or args.int8_openvino:
        if not args.calib_images:
            parser.error('--int8/--int8-openvino need --calib-images (a few '
                         'training images)')
        calib = [f for f in list_images(args.calib_images)
                 if osp.isfile(f)][:args.num_calib]
        if not calib:
            parser.error(f'--calib-images {" ".join(args.calib_images)}: no '
                         'image files there; give a few training images '
                         '(files or a folder of .jpg/.png)')

    start = time.time()
    try:
        config = load_config(args.config)
        if args.cfg_options:
            config.merge_from_dict(args.cfg_options)
        meta = export_onnx(config, args.out, args.checkpoint, args.shape)
    except (ExportError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.out} ({osp.getsize(args.out) / 2**20:.1f} MB, input '
          f'{meta["input_shape"]}, {len(meta["classes"])} classes) in '
          f'{time.time() - start:.1f}s')
    if args.int8:
        sizes = quantize_int8(args.out, args.int8, calib,
                              quant_format=args.int8_format,
                              types=args.int8_types,
                              reduce_range=args.reduce_range)
        convs = count_int8_convs(args.int8)
        print(f'wrote {args.int8} ({sizes["int8_mb"]:.1f} MB = '
              f'{sizes["ratio"]:.2f}x fp32; {convs["int8"]} of '
              f'{convs["int8"] + convs["float"]} convs run in int8 after '
              "onnxruntime's optimisations)")
    if args.int8_openvino:
        sizes = quantize_int8_openvino(args.out, args.int8_openvino, calib)
        print(f'wrote {args.int8_openvino} (+ .bin, {sizes["int8_mb"]:.1f} MB '
              f'= {sizes["ratio"]:.2f}x fp32)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
