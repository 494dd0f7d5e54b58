from .backbones import *  # noqa: F401,F403
from .dense_heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .roi_heads import *  # noqa: F401,F403
from .utils import ConversionError, DenseToFeatherInit  # noqa: F401
