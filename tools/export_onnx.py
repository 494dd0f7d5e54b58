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
import glob
import os.path as osp
import sys
import time
from typing import List, Optional

from feather_mmdet.deploy import ExportError, export_onnx, quantize_int8


def _images(items: List[str], limit: int) -> List[str]:
    files: List[str] = []
    for item in items:
        files += sorted(glob.glob(osp.join(item, '*'))) if osp.isdir(
            item) else [item]
    return files[:limit]


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
    args = parser.parse_args(argv)
    if args.int8 and not args.calib_images:
        parser.error('--int8 needs --calib-images (a few training images)')

    start = time.time()
    try:
        meta = export_onnx(args.config, args.out, args.checkpoint,
                           args.shape)
    except (ExportError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.out} ({osp.getsize(args.out) / 2**20:.1f} MB, input '
          f'{meta["input_shape"]}, {len(meta["classes"])} classes) in '
          f'{time.time() - start:.1f}s')
    if args.int8:
        sizes = quantize_int8(args.out, args.int8,
                              _images(args.calib_images, args.num_calib))
        print(f'wrote {args.int8} ({sizes["int8_mb"]:.1f} MB = '
              f'{sizes["ratio"]:.2f}x fp32)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
