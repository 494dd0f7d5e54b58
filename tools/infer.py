"""Run a trained checkpoint on your own images: pictures with masks + JSON.

    python tools/infer.py <image file or folder> \
        --config configs/feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_fruits-nuts.py \
        --weights work_dirs/demo/iter_300.pth --out-dir outputs

Writes ``<out-dir>/vis/<name>.jpg`` (masks, boxes, labels drawn) and
``<out-dir>/preds/<name>.json`` (labels, scores, boxes, RLE masks), using
mmdet's DetInferencer on CPU unless ``--device`` says otherwise.
"""
import argparse
import os.path as osp
from typing import List, Optional

from feather_mmdet.apis import run_inference


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument('--config', required=True)
    parser.add_argument('--weights', required=True, help='checkpoint file')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    if not osp.exists(args.inputs):
        parser.error(f'{args.inputs!r} does not exist')
    run_inference(args.config, args.weights, args.inputs, args.out_dir,
                  args.score_thr, args.device)
    print(f'pictures: {osp.join(args.out_dir, "vis")}\n'
          f'JSON:     {osp.join(args.out_dir, "preds")}')


if __name__ == '__main__':
    main()
