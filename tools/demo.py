"""The main job: train Feather Mask R-CNN on the shipped fruits_nuts data on
CPU, evaluate it on the val split (COCO bbox + segm AP) from the saved
checkpoint, and draw its masks on the val images.

    python tools/demo.py                      # what `make demo` runs
    python tools/demo.py --config <cfg> --work-dir <dir> --max-iters 50

Everything comes from mmengine/mmdet: the Runner trains and evaluates
(CocoMetric), DetInferencer draws the pictures and writes JSON predictions.
"""
import argparse
import glob
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional

from mmengine.config import Config, DictAction

from feather_mmdet.apis import run_inference
from feather_mmdet.engine import build_runner
from feather_mmdet.utils.config import set_max_iters

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(
    REPO, 'configs', 'feather_mask_rcnn',
    'mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_fruits-nuts.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train, evaluate and visualize Feather Mask R-CNN on CPU')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--work-dir',
        default=osp.join(REPO, 'work_dirs', 'demo'),
        help='where the checkpoint, logs, metrics and pictures go')
    parser.add_argument(
        '--max-iters', type=int, help='override the training length')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.5,
        help='score threshold of the drawn masks')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides, as for mmdet tools/train.py')
    args = parser.parse_args(argv)
    if args.max_iters is not None and args.max_iters < 1:
        parser.error(f'--max-iters {args.max_iters}: give at least 1')
    return args


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.max_iters is not None:
        # the cosine decay, warm-up and checkpoint follow the new length
        set_max_iters(cfg, args.max_iters)
        cfg.train_cfg.val_interval = args.max_iters
        cfg.default_hooks.checkpoint.interval = args.max_iters
    cfg.work_dir = args.work_dir
    # The relative data paths of the configs are relative to the repo root.
    os.chdir(REPO)
    return cfg


def train(cfg: Config) -> str:
    """Train and return the path of the final checkpoint."""
    runner = build_runner(cfg)
    runner.train()
    ckpt = osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(ckpt):
        raise FileNotFoundError(f'training finished but {ckpt} is missing')
    return ckpt


def evaluate(cfg: Config, ckpt: str) -> Dict[str, float]:
    """Reload ``ckpt`` into a fresh runner and evaluate on the val split."""
    test_cfg = cfg.copy()
    test_cfg.load_from = ckpt
    test_cfg.work_dir = osp.join(cfg.work_dir, 'test')
    metrics = build_runner(test_cfg).test()
    return {k: float(v) for k, v in metrics.items()}


def draw(cfg: Config, ckpt: str, out_dir: str, score_thr: float) -> List[str]:
    """Draw predicted masks on the val images (mmdet's DetInferencer)."""
    val = cfg.test_dataloader.dataset
    img_dir = osp.join(val.data_root, val.data_prefix['img'])
    with open(osp.join(val.data_root, val.ann_file)) as f:
        images = [
            osp.join(img_dir, im['file_name'])
            for im in json.load(f)['images']
        ]
    run_inference(cfg, ckpt, images, out_dir, score_thr)
    return sorted(glob.glob(osp.join(out_dir, 'vis', '*')))


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    cfg = build_config(args)
    start = time.time()
    ckpt = train(cfg)
    train_s = time.time() - start
    metrics = evaluate(cfg, ckpt)
    pictures = draw(cfg, ckpt, osp.join(cfg.work_dir, 'predictions'),
                    args.score_thr)
    total_s = time.time() - start
    summary = dict(
        config=args.config,
        checkpoint=ckpt,
        train_seconds=round(train_s, 1),
        total_seconds=round(total_s, 1),
        metrics=metrics)
    metrics_file = osp.join(cfg.work_dir, 'metrics.json')
    with open(metrics_file, 'w') as f:
        json.dump(summary, f, indent=2)

    print(f'\n==== {osp.basename(args.config)}: finished '
          f'in {total_s / 60:.1f} min (training {train_s / 60:.1f} min) ====')
    print(f'val bbox mAP: {metrics.get("coco/bbox_mAP", float("nan")):.3f}'
          f'   val segm mAP: {metrics.get("coco/segm_mAP", float("nan")):.3f}')
    print(f'checkpoint: {ckpt}')
    print(f'metrics:    {metrics_file}')
    print(f'pictures:   {osp.join(cfg.work_dir, "predictions", "vis")} '
          f'({len(pictures)} images)')
    print(f'predictions (JSON): {osp.join(cfg.work_dir, "predictions", "preds")}')
    return metrics


if __name__ == '__main__':
    main()
