"""Train on a COCO folder of your own with one command.

    python tools/train_own_data.py path/to/my_data            # Feather, CPU recipe
    python tools/train_own_data.py path/to/my_data --config <recipe> \
        --work-dir work_dirs/my_data --max-iters 1000 --cfg-options ...

The folder holds ``images/`` and ``annotations/{train,val}.json`` (other
names: --img-prefix, --train-ann, --val-ann). Classes and ``num_classes``
come from the train json's categories (or --classes), every dataloader and
evaluator is pointed at the folder, the data is checked (preflight) before
anything is built, and training runs with mmengine's Runner; the final config
is dumped to the work dir, so ``mim test mmdet <work_dir>/<recipe>.py``,
``tools/export_onnx.py --config <work_dir>/<recipe>.py`` and
``tools/infer.py`` use it as is.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config, DictAction

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(
    REPO, 'configs', 'feather_mask_rcnn',
    'mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_fruits-nuts.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train on your own COCO folder with one command')
    parser.add_argument('data_root', help='folder with images/ and '
                        'annotations/{train,val}.json')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='recipe (default: the Feather CPU recipe of '
                        '`make demo`)')
    parser.add_argument('--work-dir', help='default: work_dirs/<folder name>')
    parser.add_argument('--train-ann', default='annotations/train.json')
    parser.add_argument('--val-ann', default='annotations/val.json')
    parser.add_argument('--img-prefix', default='images/')
    parser.add_argument('--classes', nargs='+',
                        help='class names to train (default: every category '
                        'of the train json)')
    parser.add_argument('--max-iters', type=int,
                        help='training length (the cosine schedule and the '
                        'evaluation follow it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, as for mmdet tools/train.py')
    args = parser.parse_args(argv)
    if args.max_iters is not None and args.max_iters < 1:
        parser.error(f'--max-iters {args.max_iters}: give at least 1')
    if not osp.isfile(args.config):
        parser.error(f'--config {args.config!r} does not exist')
    return args


def build_config(args: argparse.Namespace) -> Config:
    from feather_mmdet.utils.config import set_max_iters
    from feather_mmdet.utils.own_data import use_coco_folder
    cfg = Config.fromfile(args.config)
    use_coco_folder(cfg, args.data_root, args.train_ann, args.val_ann,
                    args.img_prefix, args.classes)
    if args.max_iters is not None:
        set_max_iters(cfg, args.max_iters)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.basename(osp.normpath(args.data_root))
    cfg.work_dir = osp.abspath(args.work_dir or
                               osp.join('work_dirs', name))
    return cfg


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from feather_mmdet.utils.own_data import OwnDataError
    try:
        cfg = build_config(args)
    except OwnDataError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    from feather_mmdet.engine import build_runner
    classes = cfg.train_dataloader.dataset.metainfo['classes']
    print(f'{len(classes)} classes from {args.train_ann}: '
          f'{", ".join(classes)}; work dir {cfg.work_dir}', flush=True)
    runner = build_runner(cfg)  # FeatherRunner runs the preflight first
    runner.train()
    return 0


if __name__ == '__main__':
    sys.exit(main())
