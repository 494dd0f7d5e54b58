"""Train a config to its plateau (or a cap), evaluating every N iterations,
and record the learning curve: iteration, val bbox/segm mAP, cumulative
training seconds.

    python tools/train_curve.py \
        configs/feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_rice-leaf.py \
        --max-iters 3000 --val-interval 200 --out docs/curves/feather_rice.json

Resumable: run the same command again after an interruption and training
continues from the last checkpoint in --work-dir (mmengine's resume), with
the curve so far. With --portable, a compact copy of each checkpoint is kept
outside the work dir (commit it with the curve), and a run whose work dir is
gone resumes from it. A curve that no checkpoint can continue is never
overwritten unless --restart says so. Plateau: the last third of the run
improved segm mAP by less than 5% relative (``--min-gain``); the run stops
there (or at --max-iters, or at --stop-at for now). The cosine schedule of
the recipe is stretched to --max-iters.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

from mmengine.config import Config, DictAction

from feather_mmdet.utils.config import set_max_iters

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train to a plateau and record the learning curve')
    parser.add_argument('config')
    parser.add_argument('--max-iters', type=int, required=True,
                        help='cap on the iterations (the schedule length)')
    parser.add_argument(
        '--stop-at', type=int,
        help='end this invocation at this iteration (checkpointed) while '
        'the schedule stays --max-iters long; run again with a larger '
        'value, or without it, to continue')
    parser.add_argument('--val-interval', type=int, default=200,
                        help='evaluate (and checkpoint) every N iterations')
    parser.add_argument('--out', required=True,
                        help='json of the curve (rewritten after each '
                        'evaluation)')
    parser.add_argument('--work-dir',
                        help='checkpoints and logs (default: work_dirs/'
                        'curves/<name of --out>)')
    parser.add_argument('--min-gain', type=float, default=0.05,
                        help='plateau: relative segm mAP gain of the last '
                        'third below this')
    parser.add_argument('--min-iters', type=int, default=0,
                        help='never stop at a plateau before this')
    parser.add_argument('--no-stop', action='store_true',
                        help='run to --max-iters even after a plateau (also '
                        'continues a run that stopped at one)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--portable',
        help='also keep a compact copy of the last checkpoint here (AdamW '
        'state in bfloat16); a run whose work dir is gone (a fresh '
        'checkout, another machine) resumes from it')
    parser.add_argument(
        '--restart', action='store_true',
        help='start from iteration 0 even though --out holds a curve that '
        'no checkpoint can resume (overwrites that curve)')
    parser.add_argument(
        '--train-fraction', type=float,
        help='train on this fraction of the training images (the nested '
        'random subset of tools/study_data_efficiency.py, drawn with '
        '--subset-seed; its annotation file is written to the work dir)')
    parser.add_argument('--subset-seed', type=int, default=0)
    parser.add_argument(
        '--folds', type=int,
        help='k-fold cross-validation over the train and val images '
        'together (for a val split too small to decide anything, e.g. '
        "fruits_nuts' 4): train on all folds but --fold, evaluate on it; "
        'the split files are written to the work dir')
    parser.add_argument('--fold', type=int, default=0,
                        help='which fold is val (0 .. --folds - 1)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, as for mmdet tools/train.py')
    args = parser.parse_args(argv)
    args.out = osp.abspath(args.out)
    if args.portable:
        args.portable = osp.abspath(args.portable)
    if not osp.isfile(args.config):
        parser.error(f'config {args.config!r} does not exist')
    if args.stop_at is not None and not (
            0 < args.stop_at <= args.max_iters
            and args.stop_at % args.val_interval == 0):
        parser.error('--stop-at must be a multiple of --val-interval, at '
                     'most --max-iters (its curve point and checkpoint)')
    if args.train_fraction is not None and not 0 < args.train_fraction <= 1:
        parser.error('--train-fraction must be in (0, 1], e.g. 0.25')
    if args.folds is not None and not 0 <= args.fold < args.folds >= 2:
        parser.error(f'--fold {args.fold} with --folds {args.folds}: need '
                     f'--folds >= 2 and 0 <= --fold < --folds')
    if args.max_iters < 1 or not 1 <= args.val_interval <= args.max_iters:
        parser.error('need --max-iters >= 1 and 1 <= --val-interval <= '
                     '--max-iters')
    return args


def curve_config(args: argparse.Namespace) -> Config:
    """The recipe with the run's schedule, evaluation, checkpoints and the
    curve hook; resumes when the work dir has a checkpoint."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.out))[0]
    cfg.work_dir = osp.abspath(
        args.work_dir or osp.join(REPO, 'work_dirs', 'curves', name))
    cfg.randomness = dict(seed=args.seed)
    subset = {}
    if args.folds is not None:  # first: a fraction is of the fold's images
        subset.update(cross_validation_fold(cfg, args.folds, args.fold))
    if args.train_fraction is not None:
        subset.update(train_subset(cfg, args.train_fraction,
                                   args.subset_seed))
    set_max_iters(cfg, args.max_iters)  # cosine to the cap, warm-up inside
    cfg.train_cfg.val_interval = args.val_interval
    if args.stop_at:
        cfg.train_cfg.max_iters = args.stop_at  # the schedule keeps the cap
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=args.val_interval,
        max_keep_ckpts=2)
    meta = dict(
        config=osp.relpath(osp.abspath(args.config), REPO),
        cfg_options=args.cfg_options or {}, max_iters=args.max_iters,
        val_interval=args.val_interval, seed=args.seed, **subset,
        command=' '.join(['python', 'tools/train_curve.py'] + sys.argv[1:]))
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='TrainingCurveHook', out_file=osp.abspath(args.out),
             stop_at_plateau=not args.no_stop, min_gain=args.min_gain,
             min_iters=args.min_iters, meta=meta)
    ]
    if args.portable:
        cfg.custom_hooks.append(
            dict(type='PortableResumeHook',
                 out_file=osp.abspath(args.portable)))
    cfg.resume = resume_point(args, cfg.work_dir)
    if cfg.resume and cfg.get('load_from'):
        # mmengine resumes *from* load_from when both are set: a fine-tune
        # (load_from=converted weights) must resume from its own checkpoint
        cfg.load_from = None
    cfg.visualizer.name = f'curve-{name}'
    return cfg


def _load_annotations(cfg: Config, split: str) -> Tuple[dict, str]:
    """The COCO json of the ``split`` dataloader's dataset, and its path."""
    dataset = cfg[f'{split}_dataloader'].dataset
    ann = osp.join(dataset.get('data_root') or '', dataset.ann_file)
    if not osp.isfile(ann):
        raise SystemExit(f'the {split} annotations {ann!r} do not exist')
    with open(ann) as f:
        return json.load(f), ann


def cross_validation_fold(cfg: Config, folds: int, fold: int) -> dict:
    """Point train at all images of the config's train and val sets but
    fold ``fold`` of ``folds``, and val/test at that fold (written to the
    work dir); returns what the curve's record says about it."""
    from feather_mmdet.analysis.study import kfold, write_subset
    train, train_path = _load_annotations(cfg, 'train')
    val, val_path = _load_annotations(cfg, 'val')
    if train['categories'] != val['categories']:
        raise SystemExit(f'--folds: {train_path} and {val_path} have '
                         'different categories; cross-validation needs one '
                         'label set')
    where = [(cfg[f'{s}_dataloader'].dataset.get('data_root'),
              cfg[f'{s}_dataloader'].dataset.get('data_prefix'))
             for s in ('train', 'val')]
    if where[0] != where[1]:
        raise SystemExit(f'--folds: train images are under {where[0]}, val '
                         f'images under {where[1]}; cross-validation needs '
                         'one image folder (data_root and data_prefix)')
    both = merge_coco(train, val)
    if len(both['images']) < folds:
        raise SystemExit(f'--folds {folds}: only {len(both["images"])} '
                         f'images in {train_path} and {val_path}')
    split = kfold([im['id'] for im in both['images']], folds)[fold]
    names = {}
    for part, ids in split.items():
        names[part] = write_subset(
            both, ids,
            osp.join(cfg.work_dir, f'{part}_fold{fold}of{folds}.json'))
    cfg.train_dataloader.dataset.ann_file = names['train']
    for part in ('val', 'test'):
        cfg[f'{part}_dataloader'].dataset.ann_file = names['val']
        cfg[f'{part}_evaluator'].ann_file = names['val']
    return dict(folds=folds, fold=fold, val_images=len(split['val']),
                train_images=len(split['train']))


def merge_coco(first: dict, second: dict) -> dict:
    """One COCO dict of the images of both (an image in both, by file name,
    once, with ``first``'s annotations); ``first``'s image ids are kept,
    a clashing id of ``second`` is renumbered, annotation ids are renumbered."""
    images = {im['file_name']: im for im in first['images']}
    used = {im['id'] for im in first['images']}
    new_id, added = {}, []
    for im in second['images']:
        if im['file_name'] in images:
            continue
        new_id[im['id']] = im['id'] if im['id'] not in used else \
            max(used | {im['id']}) + 1
        used.add(new_id[im['id']])
        added.append(dict(im, id=new_id[im['id']]))
    annotations = first['annotations'] + [
        dict(a, image_id=new_id[a['image_id']])
        for a in second['annotations'] if a['image_id'] in new_id
    ]
    return dict(first, images=first['images'] + added,
                annotations=[dict(a, id=i + 1)
                             for i, a in enumerate(annotations)])


def train_subset(cfg: Config, fraction: float, seed: int) -> dict:
    """Point the training set at a ``fraction`` of its images (written to
    the work dir); returns what the curve's record says about it."""
    from feather_mmdet.analysis.study import nested_subsets, write_subset
    dataset = cfg.train_dataloader.dataset
    coco, _ = _load_annotations(cfg, 'train')
    ids = nested_subsets([im['id'] for im in coco['images']], [fraction],
                         seed)[fraction]
    dataset.ann_file = write_subset(
        coco, ids,
        osp.join(cfg.work_dir, f'train_{fraction:g}_seed{seed}.json'))
    return dict(train_fraction=fraction, subset_seed=seed,
                train_images=len(ids), train_images_all=len(coco['images']))


def resume_point(args: argparse.Namespace, work_dir: str) -> bool:
    """Whether the run resumes; restores the --portable copy into an empty
    work dir. Refuses to start over a curve it cannot continue."""
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')) and not args.restart:
        return True
    if args.portable and osp.isfile(args.portable) and not args.restart:
        from feather_mmdet.engine import restore_portable_checkpoint
        path = restore_portable_checkpoint(args.portable, work_dir)
        print(f'restored {args.portable} as {path}', flush=True)
        return True
    if osp.isfile(args.out) and not args.restart:
        with open(args.out) as f:
            curve = json.load(f).get('curve', [])
        if curve:
            raise SystemExit(
                f'{args.out} holds a curve of {len(curve)} points (to '
                f'iteration {curve[-1]["iter"]}), but there is no checkpoint '
                f'to continue it: {work_dir} has no last_checkpoint'
                + (f' and {args.portable} does not exist'
                   if args.portable else ' and no --portable copy was given')
                + '. Starting over would overwrite that curve: put the '
                'checkpoint back, or pass --restart to train from iteration '
                '0 and replace it.')
    return False


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    if osp.isfile(args.out):
        with open(args.out) as f:
            done = json.load(f)
        if done.get('stopped') == 'plateau' and not args.no_stop:
            print(f'{args.out}: already stopped at its plateau '
                  f'(iteration {done["curve"][-1]["iter"]}); nothing to do.')
            return done
        target = args.stop_at or args.max_iters
        if done.get('curve') and done['curve'][-1]['iter'] >= target:
            # resuming would re-read every skipped batch just to stop
            print(f'{args.out}: already at iteration '
                  f'{done["curve"][-1]["iter"]} (target {target}); nothing '
                  'to do.')
            return done
    config = osp.abspath(args.config)
    os.chdir(REPO)  # the configs' data paths are relative to the repo
    args.config = config
    cfg = curve_config(args)
    from feather_mmdet.engine import build_runner
    runner = build_runner(cfg)
    print(f'{"resuming" if cfg.resume else "starting"} {args.out} in '
          f'{cfg.work_dir}', flush=True)
    runner.train()
    with open(args.out) as f:
        record = json.load(f)
    last = record['curve'][-1] if record['curve'] else {}
    print(f'{args.out}: {len(record["curve"])} points, last {last}')
    return record


if __name__ == '__main__':
    main()
