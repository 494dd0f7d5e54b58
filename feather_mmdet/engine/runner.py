# Copyright (c) feather-mmdet contributors. All rights reserved.
import glob
import os.path as osp
import pickle
from datetime import timedelta
from typing import Dict, Optional, Sequence, Union

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed
from torch import nn

from ..utils.checkpoint import install_safe_checkpoint_loader
from ..utils.preflight import (RUNNER_MAX_JSON_MB, PreflightError,
                               build_checked, check_training_cfg, preflight)


# Registered in mmengine's root registry: mmdet's tools/train.py builds the
# runner from there before any default scope is set.
@RUNNERS.register_module()
class FeatherRunner(Runner):
    """mmengine :class:`Runner` that checks the config before running and
    trains distributed on CPU.

    - Checkpoints (``--resume``, ``load_from``, ``mim test --checkpoint``)
      load with the weights-only loader
      (:func:`~feather_mmdet.utils.checkpoint.install_safe_checkpoint_loader`).
    - The model config, the optimizer and the hooks are checked before
      anything is written (no work dir, log or config dump yet): an unknown
      ``type`` or argument raises :class:`PreflightError` with the closest
      valid names. The model is built there, once.
    - The data of the splits about to be used is checked when
      :meth:`train`/:meth:`val`/:meth:`test` starts, before any dataset is
      built, once per split and on rank 0 only: one error lists every
      problem; warnings (annotations mmdet will skip) are logged with their
      counts.
    - ``--resume`` onto an unreadable checkpoint names the earlier ones.
    - ``launcher='pytorch'`` without CUDA (e.g. ``torchrun`` on CPUs):
      mmengine's launcher calls ``torch.cuda.set_device`` and its DDP wrapper
      passes ``device_ids=[LOCAL_RANK]``, both CUDA-only. This runner
      initialises a gloo process group itself and wraps the model with
      ``device_ids=None``.

    Select it with ``runner_type = 'FeatherRunner'`` (the runtime base
    ``configs/_base_/feather_runtime.py`` does).
    """

    def __init__(self, model: Union[nn.Module, Dict], *args,
                 **kwargs) -> None:
        # resume / load_from / --checkpoint go through mmengine's loader.
        install_safe_checkpoint_loader()
        self._checked_splits: set = set()
        problems, state = [], None
        if isinstance(model, dict):
            # Built once, here, before mmengine writes anything; seeded as
            # mmengine would seed it before building the model.
            randomness = dict(kwargs.get('randomness') or {})
            seeded = randomness.get('seed') is not None and \
                not randomness.get('diff_rank_seed', False)
            if seeded:
                set_random_seed(randomness['seed'],
                                randomness.get('deterministic', False))
            model, problems = build_checked(model)
            # mmengine seeds again in __init__; continue from the state
            # after the build, as if mmengine had built the model itself.
            state = torch.get_rng_state() if seeded else None
        problems += check_training_cfg(kwargs.get('optim_wrapper'),
                                       kwargs.get('default_hooks'),
                                       kwargs.get('custom_hooks'))
        if problems:
            raise PreflightError(problems)
        super().__init__(model, *args, **kwargs)
        if state is not None:
            torch.set_rng_state(state)

    def setup_env(self, env_cfg: Dict) -> None:
        """Initialise gloo for CPU-only distributed runs, then as mmengine."""
        if self.distributed and not is_distributed() \
                and not torch.cuda.is_available():
            if self.launcher != 'pytorch':
                raise RuntimeError(
                    f'launcher={self.launcher!r} needs CUDA on this machine; '
                    "on CPUs use torchrun with --launcher pytorch.")
            timeout = env_cfg.get('dist_cfg', {}).get('timeout', 1800)
            torch_dist.init_process_group(
                backend='gloo', timeout=timedelta(seconds=timeout))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: nn.Module) -> nn.Module:
        """Wrap for DDP; on CPU without ``device_ids``."""
        if self.distributed and not torch.cuda.is_available():
            model_wrapper_cfg = dict(model_wrapper_cfg or {})
            model_wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
            model_wrapper_cfg.setdefault('broadcast_buffers', False)
            model_wrapper_cfg['device_ids'] = None
        return super().wrap_model(model_wrapper_cfg, model)

    def _preflight(self, splits: Sequence[str]) -> None:
        # Once per split and process, on rank 0 only: the json of a large
        # dataset is parsed once, not on every rank and every call.
        splits = [s for s in splits if s not in self._checked_splits]
        self._checked_splits.update(splits)
        if not splits or self.rank != 0:
            return
        problems = preflight(
            self.cfg, splits, check_model_build=False, decode_images='auto',
            max_json_mb=RUNNER_MAX_JSON_MB)
        for problem in problems:
            if problem.level == 'warning':
                self.logger.warning(f'preflight: {problem}')
        if any(p.level == 'error' for p in problems):
            raise PreflightError(problems)

    def resume(self, filename: str, *args, **kwargs) -> None:
        """Resume as mmengine does; a checkpoint that cannot be read (e.g.
        truncated by a crash while it was written) names the earlier ones."""
        try:
            super().resume(filename, *args, **kwargs)
        except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as e:
            if isinstance(e, FileNotFoundError) or 'Refused' in str(e):
                raise
            others = sorted(
                (p for p in glob.glob(osp.join(osp.dirname(filename),
                                               '*.pth'))
                 if osp.abspath(p) != osp.abspath(filename)),
                key=osp.getmtime)
            hint = (f'resume from the previous one: --resume {others[-1]}'
                    if others else 'no earlier checkpoint is in that folder; '
                    'start again without --resume')
            raise RuntimeError(
                f'cannot resume from {filename!r}: the file is unreadable '
                f'({type(e).__name__}: {str(e)[:200]}), e.g. truncated by '
                f'an interrupted save; {hint}') from e

    def train(self) -> nn.Module:
        """Check the train (and val) data, then train."""
        val = self._val_loop is not None and self.cfg.get('val_cfg')
        self._preflight(('train', 'val') if val else ('train', ))
        return super().train()

    def val(self) -> dict:
        """Check the val data, then validate."""
        self._preflight(('val', ))
        return super().val()

    def test(self) -> dict:
        """Check the test data, then test."""
        self._preflight(('test', ))
        return super().test()


def build_runner(cfg) -> Runner:
    """Build the runner of a config the way mmdet's ``tools/train.py`` does
    (``runner_type`` honoured, else mmengine's :class:`Runner`)."""
    return RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)
