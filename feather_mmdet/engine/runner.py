# Copyright (c) feather-mmdet contributors. All rights reserved.
from typing import Sequence

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..utils.preflight import PreflightError, preflight


# Registered in mmengine's root registry: mmdet's tools/train.py builds the
# runner from there before any default scope is set.
@RUNNERS.register_module()
class FeatherRunner(Runner):
    """mmengine :class:`Runner` that checks config and data before running.

    mmengine builds the datasets inside :meth:`train`/:meth:`test` before any
    hook runs, so a wrong path or a non-COCO json surfaces as a stack trace
    from deep inside the dataset code, and a bad image only when the loader
    reaches it. This runner first runs :func:`feather_mmdet.utils.preflight`
    on the splits about to be used and raises one :class:`PreflightError`
    listing every error; warnings (annotations mmdet will skip) are logged
    with their counts. Select it with ``runner_type = 'FeatherRunner'``.
    """

    def _preflight(self, splits: Sequence[str]) -> None:
        # The model is already built here; only data and class settings.
        problems = preflight(
            self.cfg, splits, check_model_build=False, decode_images='auto')
        for problem in problems:
            if problem.level == 'warning':
                self.logger.warning(f'preflight: {problem}')
        if any(p.level == 'error' for p in problems):
            raise PreflightError(problems)

    def train(self):
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
