"""Feather Mask R-CNN for MMDetection 3.x.

Importing the package registers its modules in mmdet's registries and
changes nothing else; the weights-only checkpoint loader is installed where
this package loads checkpoints (its runner, tools and inference helpers) or
by :func:`install_safe_checkpoint_loader`.
Layers: ``utils`` <- ``models`` <- ``engine`` <- ``apis``/``deploy``.
"""
from .apis import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403

__version__ = '0.1.0'
