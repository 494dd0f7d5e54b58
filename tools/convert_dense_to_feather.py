"""Turn dense Mask R-CNN (or ResNet-50) weights into Feather weights.

    python tools/convert_dense_to_feather.py DENSE_CKPT FEATHER_CONFIG OUT_CKPT \
        [--calib-images N] [--report report.json]

DENSE_CKPT: an mmdet Mask R-CNN checkpoint (``state_dict`` with
``backbone.``, ``neck.``, ``rpn_head.``, ``roi_head.`` keys) or a plain
ResNet state dict in torchvision/mmdet naming (backbone only). Tensors with a
matching name and shape are copied; every dense conv that Feather made
depthwise-separable is decomposed (closed form: rank-1 SVD per input channel,
a ReLU shift absorbed by the next norm or bias); with --calib-images N, N
training images of the config's dataset refine each such layer by least
squares on its real inputs. Whatever has no dense counterpart is listed and
keeps its normal init. OUT_CKPT loads with ``load_from=`` or
``--cfg-options load_from=...`` (strict; or use the config initializer
``init_cfg=dict(type='DenseToFeather', checkpoint=...)`` for data-free).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional

import torch
from mmengine.config import Config

from feather_mmdet.apis.convert import convert_checkpoint
from feather_mmdet.models.utils import ConversionError


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dense_ckpt')
    parser.add_argument('feather_config')
    parser.add_argument('out_ckpt')
    parser.add_argument('--calib-images', type=int, default=0,
                        help='training images for calibration (0: data-free)')
    parser.add_argument('--report', help='write the per-layer report here')
    parser.add_argument(
        '--max-not-mapped', type=int, default=None,
        help='refuse if more Feather tensors than this have no dense '
        'counterpart (default: report them; e.g. 0 for a full detector)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.feather_config):
        parser.error(f'config {args.feather_config!r} does not exist')
    if osp.exists(args.out_ckpt) and osp.exists(args.dense_ckpt) and \
            osp.samefile(args.out_ckpt, args.dense_ckpt):
        parser.error(f'out_ckpt {args.out_ckpt!r} is the dense checkpoint '
                     'itself; write the Feather checkpoint to another file')
    if osp.isdir(args.out_ckpt):
        parser.error(f'out_ckpt {args.out_ckpt!r} is a folder; give a file '
                     'name (e.g. work_dirs/feather_from_dense.pth)')
    start = time.time()
    try:
        state, report, meas = convert_checkpoint(
            args.dense_ckpt, Config.fromfile(args.feather_config),
            args.calib_images, max_not_mapped=args.max_not_mapped)
    except (FileNotFoundError, ConversionError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    seconds = time.time() - start
    os.makedirs(osp.dirname(osp.abspath(args.out_ckpt)), exist_ok=True)
    tmp = args.out_ckpt + '.tmp'
    torch.save(dict(state_dict=state, meta=dict(
        converted_from=args.dense_ckpt, mode=meas['mode'])), tmp)
    os.replace(tmp, args.out_ckpt)
    print(report.summary())
    if report.not_mapped:
        print(f'not mapped (normal init): {report.not_mapped}')
    layers = meas.get('layers', {})
    if layers:
        for key in ('data_free', 'calibrated'):
            errs = sorted(v[key] for v in layers.values())
            print(f'output rel. error on calibration images, {key}: median '
                  f'{errs[len(errs) // 2]:.3f}, worst {errs[-1]:.3f} '
                  f'({len(errs)} layers)')
        print(f'prediction agreement with the dense model: '
              f'{meas["agreement"]}')
    print(f'wrote {args.out_ckpt} in {seconds:.1f}s ({meas["mode"]})')
    if args.report:
        with open(args.report, 'w') as f:
            json.dump(dict(seconds=round(seconds, 1),
                           weight_rel_error=report.decomposed,
                           copied=len(report.copied),
                           not_mapped=report.not_mapped,
                           unused=report.unused, **meas), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
