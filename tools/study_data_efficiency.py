"""Does Feather reach better accuracy with less data? Train Feather, the
dense Mask R-CNN and RTMDet-Ins-tiny on nested subsets of the training data
with several seeds, evaluate COCO bbox/segm AP on a fixed split.

    python tools/study_data_efficiency.py            # the full study (hours)
    python tools/study_data_efficiency.py --quick    # 2 iterations, smoke test
    python tools/study_data_efficiency.py --datasets rice --seeds 0 1 2 \
        --fractions 0.25 0.5 1.0 --iters 300

rice_leaf_disease: its fixed 97/16 split; subsets of the 97 train images
drawn per seed (nested: 25% within 50% within 100%). fruits_nuts (18 images,
val too small to decide anything): k-fold cross-validation over all 18, the
fold index doubling as the seed. Every model gets the same iterations.
Resumable: a run already in results.json is not redone (Ctrl-C and rerun).
Writes results.json, results.md (mean ± std) and data_efficiency.png to
--out-dir; checkpoints go to --work-dir.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(REPO, 'configs')
DATASETS = {
    'rice': dict(
        data_root=osp.join(REPO, 'data', 'rice_leaf_disease') + '/',
        train='annotations/train.json',
        val='annotations/val.json',
        models={
            'feather': 'feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_'
            'scratch-cpu-1xb2-300it_rice-leaf.py',
            'baseline': 'feather_mask_rcnn/mask-rcnn_r50_fpn_scratch-cpu-'
            '1xb2-300it_rice-leaf.py',
            'rtmdet-ins-tiny': 'rtmdet_ins/rtmdet-ins_tiny_scratch-cpu-1xb2-'
            '300it_rice-leaf.py',
        }),
    'fruits': dict(
        data_root=osp.join(REPO, 'data', 'fruits_nuts') + '/',
        trainval='trainval.json',
        models={
            'feather': 'feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_'
            'scratch-cpu-1xb2-300it_fruits-nuts.py',
            'baseline': 'feather_mask_rcnn/mask-rcnn_r50_fpn_scratch-cpu-'
            '1xb2-300it_fruits-nuts.py',
            'rtmdet-ins-tiny': 'rtmdet_ins/rtmdet-ins_tiny_scratch-cpu-1xb2-'
            '300it_fruits-nuts.py',
        }),
}


def plan(args: argparse.Namespace) -> List[dict]:
    """Every run of the study, in the order they run (one seed/fold of
    every size and model first, so partial results are balanced)."""
    from feather_mmdet.analysis.study import kfold, nested_subsets
    runs = []
    for name in args.datasets:
        spec = DATASETS[name]
        if 'trainval' in spec:
            with open(spec['data_root'] + spec['trainval']) as f:
                ids = [im['id'] for im in json.load(f)['images']]
            splits = [(f'fold{k}', k, fold['train'], fold['val'])
                      for k, fold in enumerate(kfold(ids, args.folds))]
        else:
            with open(spec['data_root'] + spec['train']) as f:
                ids = [im['id'] for im in json.load(f)['images']]
            splits = [('fixed', seed, ids, None) for seed in args.seeds]
        for split, seed, train_ids, val_ids in splits:
            subsets = nested_subsets(train_ids, args.fractions, seed)
            for fraction in args.fractions:
                for model in args.models:
                    runs.append(
                        dict(dataset=name, split=split, seed=seed,
                             fraction=fraction, train_ids=subsets[fraction],
                             val_ids=val_ids, model=model,
                             config=osp.join(CFG, spec['models'][model])))
    return runs


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--datasets', nargs='+', default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument('--models', nargs='+',
                        default=['feather', 'baseline', 'rtmdet-ins-tiny'],
                        choices=['feather', 'baseline', 'rtmdet-ins-tiny'])
    parser.add_argument('--fractions', type=float, nargs='+',
                        default=[0.25, 0.5, 1.0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--folds', type=int, default=3,
                        help='cross-validation folds for fruits')
    parser.add_argument('--iters', type=int, default=200)
    parser.add_argument('--out-dir',
                        default=osp.join(REPO, 'docs', 'data_efficiency'))
    parser.add_argument('--work-dir',
                        default=osp.join(REPO, 'work_dirs', 'study'))
    parser.add_argument(
        '--load-from',
        help='start every run from this checkpoint (e.g. a dense model '
        'converted by tools/convert_dense_to_feather.py); recorded as '
        'model "<model>-<tag>"')
    parser.add_argument('--tag', default='init',
                        help='name suffix of --load-from runs')
    parser.add_argument('--quick', action='store_true',
                        help='2 iterations, one seed/fold, one size')
    args = parser.parse_args(argv)
    bad = [f for f in args.fractions if not 0 < f <= 1]
    if bad:
        parser.error(f'--fractions {bad}: each fraction of the training '
                     'data must be in (0, 1], e.g. 0.25 0.5 1.0')
    if args.iters < 1:
        parser.error(f'--iters {args.iters}: train at least 1 iteration')
    if args.folds < 2:
        parser.error(f'--folds {args.folds}: cross-validation needs >= 2')
    if args.quick:
        args.iters, args.seeds, args.fractions = 2, args.seeds[:1], [0.25]
        if args.out_dir == parser.get_default('out_dir'):
            args.out_dir = osp.join(REPO, 'work_dirs', 'study_quick')
    os.chdir(REPO)  # the configs' relative paths

    import torch
    from mmdet.utils import register_all_modules

    from feather_mmdet.analysis.study import (Run, differences_markdown,
                                          load_results, paired_differences,
                                          plot, save_results, study_config,
                                          summarize, to_markdown,
                                          train_and_evaluate, write_subset)
    register_all_modules()
    torch.set_num_threads(2)
    os.makedirs(args.out_dir, exist_ok=True)
    results_file = osp.join(args.out_dir, 'results.json')
    done = load_results(results_file)
    done_keys = {Run(**{k: r[k] for k in Run.__dataclass_fields__}).key
                 for r in done}
    todo = plan(args)
    if args.quick:  # one fold of fruits, like one seed of rice
        todo = [r for r in todo if r['split'] in ('fixed', 'fold0')]
    # Per file, not per run: each run records its own iterations and
    # config, and a resumed study spans several invocations.
    meta = dict(threads=2, last_command=' '.join(sys.argv))
    pending = []
    for spec in todo:
        model = spec['model'] + (f'-{args.tag}' if args.load_from else '')
        run = Run(model=model, dataset=spec['dataset'],
                  split=spec['split'], fraction=spec['fraction'],
                  train_images=len(spec['train_ids']), seed=spec['seed'],
                  iterations=args.iters,
                  config=osp.relpath(spec['config'], REPO))
        if run.key not in done_keys:
            pending.append((spec, run))
    print(f'{len(todo) - len(pending)} of {len(todo)} runs already in '
          f'{results_file}; {len(pending)} to go', flush=True)
    spent = 0.0
    for i, (spec, run) in enumerate(pending):
        dataset = DATASETS[run.dataset]
        data_root = dataset['data_root']
        base = osp.join(args.work_dir, run.dataset, run.split)
        with open(data_root + dataset.get('trainval', dataset.get('train'))) \
                as f:
            coco = json.load(f)
        train_ann = write_subset(
            coco, spec['train_ids'],
            osp.join(base, f'train_{run.fraction:g}_seed{run.seed}.json'))
        val_ann = data_root + dataset['val'] if spec['val_ids'] is None \
            else write_subset(coco, spec['val_ids'],
                              osp.join(base, 'val.json'))
        work_dir = osp.join(
            base, f'{run.model}_{run.fraction:g}_seed{run.seed}_'
            f'{run.iterations}it')
        start = time.time()
        print(f'[{i + 1}/{len(pending)}] {run.key}: {run.train_images} '
              f'images, {args.iters} iters', flush=True)
        cfg = study_config(spec['config'], work_dir, train_ann, val_ann,
                           data_root, args.iters, run.seed)
        if args.load_from:
            cfg.load_from = args.load_from
        train_and_evaluate(run, cfg)
        done.append(dict(vars(run), key=run.key))
        save_results(results_file, done, meta)
        spent += time.time() - start
        left = len(pending) - i - 1
        print(f'    segm {run.segm_mAP:.3f} bbox {run.bbox_mAP:.3f}, '
              f'{run.train_seconds:.0f}s training; ETA '
              f'{spent / (i + 1) * left / 60:.0f} min for {left} runs',
              flush=True)
    rows = summarize(done)
    report = to_markdown(rows)
    diffs = paired_differences(done)
    if diffs:  # same images and seed: the spread of the difference itself
        report += '\nPaired by training subset and seed:\n\n' + \
            differences_markdown(diffs)
    with open(osp.join(args.out_dir, 'results.md'), 'w') as f:
        f.write(report)
    if rows:
        plot(rows, osp.join(args.out_dir, 'data_efficiency.png'))
    print(report)
    return done


if __name__ == '__main__':
    main()
