# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Safe loading of local checkpoints with torch's ``weights_only`` unpickler.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10
calls ``torch.load`` without arguments, so the checkpoints mmengine saves
(they hold numpy arrays and ``HistoryBuffer`` log state) no longer load back.
Rather than turning the protection off, :func:`install_safe_checkpoint_loader`
replaces the local-file loader of mmengine's :class:`CheckpointLoader` by one
that keeps ``weights_only=True`` and allows exactly the plain-data types such
checkpoints contain. A file that
needs anything else (arbitrary pickled code) is refused with an explanation;
files the user trusts can be named in ``FEATHER_MMDET_TRUSTED_CHECKPOINTS``.
"""
import os
import os.path as osp
import pickle
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

#: Environment variable listing checkpoint files (``os.pathsep``-separated)
#: that may be loaded with full unpickling because the user trusts them.
TRUSTED_ENV = 'FEATHER_MMDET_TRUSTED_CHECKPOINTS'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs objects outside the weights-only allow-list."""


def _numpy_globals() -> List[Callable]:
    """Return the numpy callables/types that pickled arrays and scalars use."""
    multiarray = getattr(np, '_core', None) or np.core
    allowed = [
        multiarray.multiarray._reconstruct, multiarray.multiarray.scalar,
        np.ndarray, np.dtype
    ]
    # numpy >= 1.25 pickles each dtype with its own class (Float64DType, ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return allowed


# HistoryBuffer's built-in statistics (its class dict is filled lazily).
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` while unpickling a checkpoint.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; a general ``getattr`` would hand an
    attacker any attribute reachable from the allowed types, so only these
    lookups are answered.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


#: Non-tensor globals found in checkpoints saved by mmengine's runner: numpy
#: arrays/scalars in the log history, the history buffer and its statistics
#: methods. None of them can execute code when unpickled.
SAFE_CHECKPOINT_GLOBALS: List[Any] = _numpy_globals() + [
    HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
]


def _trusted_files() -> List[str]:
    value = os.environ.get(TRUSTED_ENV, '')
    return [osp.realpath(p) for p in value.split(os.pathsep) if p]


def _first_refusal(error: Exception) -> str:
    """Pick torch's reason (the refused global) out of its long message."""
    boilerplate = ('Weights only load failed', 'Check the documentation',
                   'Please file an issue', '(1)', '(2)')
    lines = [
        line.strip() for line in str(error).splitlines()
        if line.strip() and not line.strip().startswith(boilerplate)
    ]
    reason = ' '.join(lines).replace('WeightsUnpickler error:', '')
    return ' '.join(reason.split()).split(' Please use')[0][:300]


def load_from_local_safely(filename: str,
                           map_location: Optional[Union[str,
                                                        Callable]] = None
                           ) -> Any:
    """Load a local checkpoint without running pickled code.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str | Callable, optional): Same as :func:`torch.load`.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file needs objects outside the allow-list
            and is not listed in ``FEATHER_MMDET_TRUSTED_CHECKPOINTS``.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'Checkpoint file not found: {filename!r}. Check the path given '
            'to --checkpoint / --resume / load_from / init_cfg.checkpoint.')
    if osp.realpath(filename) in _trusted_files():
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(SAFE_CHECKPOINT_GLOBALS):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {filename!r}: it contains pickled '
            'objects other than tensors and plain data, and unpickling them '
            f'could run arbitrary code ({_first_refusal(e)}). '
            'If you trust where this file comes '
            f'from, allow it with `export {TRUSTED_ENV}={filename}` '
            f'(several files separated by {os.pathsep!r}).') from e


def install_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints with :func:`load_from_local_safely`.

    Replaces the loader of mmengine's :class:`CheckpointLoader` for local
    paths (prefix ``''``), which resume, ``load_from``,
    ``init_cfg=Pretrained``, ``mim test --checkpoint`` and ``DetInferencer``
    all use. Process-wide, so importing this package does not do it: this
    package's runner (:class:`FeatherRunner`), tools and inference helpers
    call it; other code can too. Calling it again changes nothing.
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)
