"""Run a trained model on your own images: pictures with masks + JSON.

    # PyTorch (mmdet's DetInferencer)
    python tools/infer.py <image file or folder> \
        --config configs/feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_fruits-nuts.py \
        --weights work_dirs/demo/iter_300.pth --out-dir outputs
    # An exported ONNX file, without torch (tools/export_onnx.py)
    python tools/infer.py <images> --backend onnxruntime --model feather.onnx
    python tools/infer.py <images> --backend openvino --model feather.onnx

Writes ``<out-dir>/vis/<name>.jpg`` (masks, boxes, labels drawn) and
``<out-dir>/preds/<name>.json`` (labels, scores, boxes, RLE masks; only
detections with score >= --score-thr, on both backends). A file in a folder
that is not a readable image (or a truncated JPEG) is skipped and counted.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

from feather_runtime.images import IMAGE_EXTS, list_images, read_image


def run_onnx(model: str, files: List[str], out_dir: str, score_thr: float,
             backend: str) -> Tuple[int, List[str]]:
    """The torch-free path: feather_runtime on onnxruntime or OpenVINO."""
    import cv2

    from feather_runtime import Detector, draw_result, result_to_json
    try:
        detector = Detector(model, backend=backend)
    except Exception as e:  # a non-ONNX file, or a file without metadata
        raise SystemExit(
            f'error: {model!r} cannot be loaded as an exported model '
            f'({type(e).__name__}: {str(e)[:200]}); give the .onnx file '
            'written by tools/export_onnx.py') from e
    os.makedirs(osp.join(out_dir, 'vis'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
    skipped = []
    for path in files:
        img = read_image(path)
        if img is None:
            skipped.append(path)
            continue
        result = detector(img).above(score_thr)
        stem = osp.splitext(osp.basename(path))[0]
        cv2.imwrite(
            osp.join(out_dir, 'vis', stem + '.jpg'),
            draw_result(img, result, detector.classes, score_thr))
        with open(osp.join(out_dir, 'preds', stem + '.json'), 'w') as f:
            json.dump(result_to_json(result, detector.classes), f)
    return len(files) - len(skipped), skipped


def main(argv: Optional[List[str]] = None) -> int:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument(
        '--backend', default='torch',
        choices=['torch', 'onnxruntime', 'openvino'])
    parser.add_argument('--config', help='config (torch backend)')
    parser.add_argument('--weights', help='checkpoint (torch backend)')
    parser.add_argument('--model', help='.onnx file (onnxruntime/openvino)')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--device', default='cpu', help='torch device')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides (torch backend), as for '
                        "mmdet's tools")
    args = parser.parse_args(argv)
    # Everything the arguments can get wrong, before any model is loaded.
    if not osp.exists(args.inputs):
        parser.error(f'{args.inputs!r} does not exist')
    if osp.exists(args.out_dir) and not osp.isdir(args.out_dir):
        parser.error(f'--out-dir {args.out_dir!r} is a file; give a folder')
    files = list_images(args.inputs)
    if not files:
        parser.error(f'no images ({", ".join(IMAGE_EXTS)}) in folder '
                     f'{args.inputs!r}')
    stems: dict = {}
    for f in files:
        stems.setdefault(osp.splitext(osp.basename(f))[0], []).append(f)
    clashes = [v for v in stems.values() if len(v) > 1]
    if clashes:
        parser.error(f'{" and ".join(map(osp.basename, clashes[0]))} would '
                     'both be written as '
                     f'{osp.splitext(osp.basename(clashes[0][0]))[0]}.json; '
                     'rename one of them')
    if args.backend == 'torch':
        if not (args.config and args.weights):
            parser.error('the torch backend needs --config and --weights')
        if args.device.startswith('cuda'):
            import torch
            if not torch.cuda.is_available():
                parser.error(f'--device {args.device}: no CUDA GPU on this '
                             'machine; use --device cpu')
        from feather_mmdet.apis import run_inference
        from feather_mmdet.utils import load_config
        cfg = load_config(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        readable = [f for f in files if read_image(f) is not None]
        skipped = sorted(set(files) - set(readable))
        if readable:
            run_inference(cfg, args.weights, readable, args.out_dir,
                          args.score_thr, args.device)
        done = len(readable)
    else:
        if not args.model:
            parser.error(f'--backend {args.backend} needs --model FILE.onnx '
                         '(see tools/export_onnx.py)')
        if not osp.isfile(args.model):
            parser.error(f'model file {args.model!r} does not exist')
        done, skipped = run_onnx(args.model, files, args.out_dir,
                                 args.score_thr, args.backend)
    for path in skipped:
        print(f'skipped (not a readable image): {path}', file=sys.stderr)
    print(f'{done} image(s) done, {len(skipped)} skipped\n'
          f'pictures: {osp.join(args.out_dir, "vis")}\n'
          f'JSON:     {osp.join(args.out_dir, "preds")}')
    return 0 if done else 1


if __name__ == '__main__':
    sys.exit(main())
