# Copyright (c) feather-mmdet contributors. All rights reserved.
from typing import Dict, List

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present


class CheckpointMismatchError(RuntimeError):
    """A checkpoint does not fit the model and partial loading is off."""


def compare_state_dicts(model_state: Dict, ckpt_state: Dict) -> Dict[str,
                                                                     List]:
    """Return missing, unexpected and shape-mismatched keys of a checkpoint."""
    ckpt_state = dict(ckpt_state)  # DDP-saved keys: strip ``module.``
    consume_prefix_in_state_dict_if_present(ckpt_state, 'module.')
    return dict(
        missing=sorted(set(model_state) - set(ckpt_state)),
        unexpected=sorted(set(ckpt_state) - set(model_state)),
        shape_mismatch=sorted(
            f'{k}: checkpoint {tuple(ckpt_state[k].shape)} vs model '
            f'{tuple(v.shape)}' for k, v in model_state.items()
            if k in ckpt_state and hasattr(ckpt_state[k], 'shape')
            and tuple(ckpt_state[k].shape) != tuple(v.shape)))


def mismatch_report(diff: Dict[str, List], examples: int = 5) -> str:
    """One line per kind of difference found by :func:`compare_state_dicts`,
    with its count and the first keys."""
    return '\n  '.join(
        f'{len(v)} {k.replace("_", " ")} key(s): {v[:examples]}'
        f'{" ..." if len(v) > examples else ""}' for k, v in diff.items()
        if v)


@HOOKS.register_module()
class CheckpointCompatibilityHook(Hook):
    """Refuse to load half a model from ``load_from`` / ``--resume``.

    mmengine's runner loads checkpoints with ``strict=False``: a checkpoint
    of another architecture (say the mmdet baseline's into a Feather model)
    loads whatever matches and only logs the rest. This hook compares the
    checkpoint with the model before the weights are copied and raises
    :class:`CheckpointMismatchError` with the missing, unexpected and
    shape-mismatched keys. Fine-tuning from a different model stays possible
    with ``allow_partial_load=True`` (config or ``--cfg-options``), which
    logs the same report as a warning.

    Args:
        allow_partial_load (bool): Load the matching part and warn instead of
            failing. Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self, allow_partial_load: bool = False) -> None:
        self.allow_partial_load = allow_partial_load

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        diff = compare_state_dicts(model.state_dict(),
                                   checkpoint.get('state_dict', checkpoint))
        if not any(diff.values()):
            return
        report = ('The checkpoint does not match the model (was it saved '
                  'from another config?):\n  ' + mismatch_report(diff))
        allow = self.allow_partial_load or runner.cfg.get(
            'allow_partial_load', False)
        if allow:
            runner.logger.warning(report + '\nLoading the matching part '
                                  '(allow_partial_load=True).')
            return
        raise CheckpointMismatchError(
            report + '\nNothing was loaded. To fine-tune from it anyway, '
            'pass --cfg-options allow_partial_load=True.')
