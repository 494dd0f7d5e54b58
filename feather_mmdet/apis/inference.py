# Copyright (c) feather-mmdet contributors. All rights reserved.
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
    checkpoint up front (instead of after building the model).

    Args:
        config (str | Config): Detector config.
        weights (str): Checkpoint file.
        inputs (str | list[str]): An image, a folder or a list of images.
        out_dir (str): Writes ``vis/<name>.jpg`` and ``preds/<name>.json``.
        score_thr (float): Score threshold of what is drawn.
        device (str): Torch device. Defaults to ``'cpu'``.
    """
    from mmdet.apis import DetInferencer

    from ..utils.checkpoint import install_safe_checkpoint_loader
    install_safe_checkpoint_loader()
    if not osp.isfile(weights):
        raise FileNotFoundError(
            f'checkpoint {weights!r} not found; train one first '
            '(`make demo` writes work_dirs/demo/iter_300.pth)')
    inferencer = DetInferencer(model=config, weights=weights, device=device)
    inferencer(
        inputs, out_dir=out_dir, pred_score_thr=score_thr, no_save_pred=False)
