"""Print parameters per component of configs, with ratios to a reference.

    python tools/count_params.py configs/feather_mask_rcnn/*_coco.py \
        --reference configs/feather_mask_rcnn/mask-rcnn_r50-scratch_fpn_1x_coco.py
"""
import argparse
import os.path as osp
from typing import Dict, List

from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

COMPONENTS = ('backbone', 'neck', 'rpn_head', 'roi_head.bbox_head',
              'roi_head.mask_head', 'roi_head.mask_head.convs')


def count(config: str) -> Dict[str, int]:
    """Build ``config``'s model (random init) and count parameters."""
    model = MODELS.build(Config.fromfile(config).model)
    counts = {'model': sum(p.numel() for p in model.parameters())}
    for name in COMPONENTS:
        module = model
        for attr in name.split('.'):
            module = getattr(module, attr, None)
        if module is not None:
            counts[name] = sum(p.numel() for p in module.parameters())
    return counts


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--reference', help='config the ratios refer to')
    args = parser.parse_args(argv)
    register_all_modules()
    ref = count(args.reference) if args.reference else None
    keys = ('model', ) + COMPONENTS
    print('| config | ' + ' | '.join(keys) + ' |')
    print('|---' * (len(keys) + 1) + '|')
    for config in args.configs:
        counts = count(config)
        cells = []
        for k in keys:
            cell = f'{counts[k] / 1e6:.2f}M'
            if ref and ref.get(k):
                cell += f' ({counts[k] / ref[k]:.2f}x)'
            cells.append(cell)
        print(f'| {osp.basename(config)} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
