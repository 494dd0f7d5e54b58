"""COCO bbox/segm AP of an exported ONNX model on a COCO-format split,
without torch (feather_runtime + pycocotools).

    python tools/eval_onnx.py work_dirs/demo/feather.onnx \
        --ann-file data/fruits_nuts/annotations/val.json \
        --img-dir data/fruits_nuts/images [--backend openvino] [--out m.json]

Compare with the PyTorch model's AP on the same split (``make demo`` writes
it to ``work_dirs/demo/metrics.json``; ``mim test`` prints it).
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import List, Optional

from feather_runtime import BACKENDS, Detector, evaluate_coco


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', help='.onnx file from tools/export_onnx.py')
    parser.add_argument('--ann-file', required=True)
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--backend', default='onnxruntime', choices=BACKENDS)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--out', help='write the metrics here as JSON')
    args = parser.parse_args(argv)
    for path in (args.model, args.ann_file):
        if not osp.isfile(path):
            parser.error(f'{path!r} does not exist')
    start = time.time()
    if not osp.isdir(args.img_dir):
        parser.error(f'--img-dir {args.img_dir!r} is not a folder')
    detector = Detector(args.model, args.backend, args.threads)
    try:
        metrics = evaluate_coco(
            detector, args.ann_file, args.img_dir,
            progress=lambda i, n: print(f'\r{i}/{n} images', end='',
                                        file=sys.stderr))
    except (ValueError, FileNotFoundError) as e:
        print(f'\nerror: {e}', file=sys.stderr)
        sys.exit(2)
    metrics['seconds'] = round(time.time() - start, 1)
    print()
    print(json.dumps(metrics, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(model=args.model, backend=args.backend, **metrics),
                      f, indent=2)
    return metrics


if __name__ == '__main__':
    main()
