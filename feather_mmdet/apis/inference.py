# Copyright (c) feather-mmdet contributors. All rights reserved.
import glob
import json
import os.path as osp
from typing import List, Union

from mmengine.config import Config


def run_inference(config: Union[str, Config],
                  weights: str,
                  inputs: Union[str, List[str]],
                  out_dir: str,
                  score_thr: float = 0.5,
                  device: str = 'cpu') -> None:
    """Draw the predictions of a checkpoint on images and save them as JSON.

    A thin wrapper of mmdet's :class:`DetInferencer` that refuses a missing
    checkpoint up front, loads it with the weights-only loader, refuses one
    that does not fit the config's model (DetInferencer would only warn and
    run half-random weights), and applies ``score_thr`` to the JSON files as
    well as to the pictures.

    Args:
        config (str | Config): Detector config.
        weights (str): Checkpoint file.
        inputs (str | list[str]): An image, a folder or a list of images.
        out_dir (str): Writes ``vis/<name>.jpg`` and ``preds/<name>.json``.
        score_thr (float): Score threshold of what is drawn and saved.
        device (str): Torch device. Defaults to ``'cpu'``.

    Raises:
        FileNotFoundError: ``weights`` does not exist.
        CheckpointMismatchError: ``weights`` belongs to another model.
    """
    from mmdet.apis import DetInferencer
    from mmengine.runner.checkpoint import _load_checkpoint

    from ..engine.hooks.checkpoint_compat_hook import (CheckpointMismatchError,
                                                       compare_state_dicts,
                                                       mismatch_report)
    from ..utils.checkpoint import install_safe_checkpoint_loader

    if not osp.isfile(weights):
        raise FileNotFoundError(
            f'checkpoint {weights!r} not found; train one first '
            '(`make demo` writes work_dirs/demo/iter_300.pth)')
    install_safe_checkpoint_loader()
    inferencer = DetInferencer(model=config, weights=weights, device=device)
    ckpt = _load_checkpoint(weights, map_location='cpu')
    diff = compare_state_dicts(inferencer.model.state_dict(),
                               ckpt.get('state_dict', ckpt))
    if any(diff.values()):
        raise CheckpointMismatchError(
            f'{weights!r} does not fit the model of the config:\n  '
            f'{mismatch_report(diff)}\nUse the config it was trained with.')
    if isinstance(inputs, list):
        files = inputs
    elif osp.isdir(inputs):
        files = sorted(glob.glob(osp.join(inputs, '*')))
    else:
        files = [inputs]
    inferencer(
        inputs, out_dir=out_dir, pred_score_thr=score_thr, no_save_pred=False)
    # DetInferencer applies the threshold to the drawing only; this run's
    # prediction files get it too.
    for img in files:
        path = osp.join(out_dir, 'preds',
                        osp.splitext(osp.basename(img))[0] + '.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            pred = json.load(f)
        keep = [i for i, s in enumerate(pred.get('scores', []))
                if s >= score_thr]
        for key in ('labels', 'scores', 'bboxes', 'masks'):
            if key in pred:
                pred[key] = [pred[key][i] for i in keep]
        with open(path, 'w') as f:
            json.dump(pred, f)
