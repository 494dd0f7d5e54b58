"""Print parameters per component of configs, with ratios to a reference.

    python tools/count_params.py configs/feather_mask_rcnn/*_coco.py \
        --reference configs/feather_mask_rcnn/mask-rcnn_r50_fpn_scratch-1x_coco.py

Counts come from mmengine's ``parameter_count``.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.analysis import parameter_count
from mmengine.config import Config

COMPONENTS = ('', 'backbone', 'neck', 'rpn_head', 'roi_head.bbox_head',
              'roi_head.mask_head', 'roi_head.mask_head.convs')


def count(config: str) -> Dict[str, int]:
    """Build ``config``'s model (random init); parameters per component."""
    counts = parameter_count(MODELS.build(Config.fromfile(config).model))
    return {k: counts[k] for k in COMPONENTS if k in counts}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--reference', help='config the ratios refer to')
    args = parser.parse_args(argv)
    register_all_modules()
    ref = count(args.reference) if args.reference else {}
    print('| config | ' + ' | '.join(k or 'model' for k in COMPONENTS) + ' |')
    print('|---' * (len(COMPONENTS) + 1) + '|')
    for config in args.configs:
        counts = count(config)
        cells = []
        for k in COMPONENTS:
            cell = f'{counts.get(k, 0) / 1e6:.2f}M'
            if ref.get(k):
                cell += f' ({counts.get(k, 0) / ref[k]:.2f}x)'
            cells.append(cell)
        print(f'| {osp.basename(config)} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
