"""Feather Mask R-CNN for MMDetection 3.x.

Importing the package registers its modules in mmdet's registries and
installs the weights-only checkpoint loader (see :mod:`feather_mmdet.engine`).
Layers: ``utils`` (no model imports) <- ``models`` <- ``engine`` <- ``apis``.
"""
from .apis import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403

__version__ = '0.1.0'
