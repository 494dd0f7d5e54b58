"""Run a trained model on your own images: pictures with masks + JSON.

    # PyTorch (mmdet's DetInferencer)
    python tools/infer.py <image file or folder> \
        --config configs/feather_mask_rcnn/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_fruits-nuts.py \
        --weights work_dirs/demo/iter_300.pth --out-dir outputs
    # An exported ONNX file, without torch (tools/export_onnx.py)
    python tools/infer.py <images> --backend onnxruntime --model feather.onnx
    python tools/infer.py <images> --backend openvino --model feather.onnx

Writes ``<out-dir>/vis/<name>.jpg`` (masks, boxes, labels drawn) and
``<out-dir>/preds/<name>.json`` (labels, scores, boxes, RLE masks).
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import List, Optional

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def run_onnx(model: str, inputs: str, out_dir: str, score_thr: float,
             backend: str) -> int:
    """The torch-free path: feather_runtime on onnxruntime or OpenVINO."""
    import cv2

    from feather_runtime import Detector, draw_result, result_to_json
    files = sorted(
        f for f in glob.glob(osp.join(inputs, '*'))
        if f.lower().endswith(IMAGE_EXTS)) if osp.isdir(inputs) else [inputs]
    detector = Detector(model, backend=backend)
    os.makedirs(osp.join(out_dir, 'vis'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
    for path in files:
        img = cv2.imread(path)
        if img is None:
            raise FileNotFoundError(f'{path!r} is not a readable image')
        result = detector(img).above(score_thr)
        stem = osp.splitext(osp.basename(path))[0]
        cv2.imwrite(
            osp.join(out_dir, 'vis', stem + '.jpg'),
            draw_result(img, result, detector.classes, score_thr))
        with open(osp.join(out_dir, 'preds', stem + '.json'), 'w') as f:
            json.dump(result_to_json(result, detector.classes), f)
    return len(files)


def main(argv: Optional[List[str]] = None) -> None:
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
    args = parser.parse_args(argv)
    if not osp.exists(args.inputs):
        parser.error(f'{args.inputs!r} does not exist')
    if args.backend == 'torch':
        if not (args.config and args.weights):
            parser.error('the torch backend needs --config and --weights')
        from feather_mmdet.apis import run_inference
        run_inference(args.config, args.weights, args.inputs, args.out_dir,
                      args.score_thr, args.device)
    else:
        if not args.model:
            parser.error(f'--backend {args.backend} needs --model FILE.onnx '
                         '(see tools/export_onnx.py)')
        if not osp.isfile(args.model):
            parser.error(f'model file {args.model!r} does not exist')
        run_onnx(args.model, args.inputs, args.out_dir, args.score_thr,
                 args.backend)
    print(f'pictures: {osp.join(args.out_dir, "vis")}\n'
          f'JSON:     {osp.join(args.out_dir, "preds")}')


if __name__ == '__main__':
    main()
