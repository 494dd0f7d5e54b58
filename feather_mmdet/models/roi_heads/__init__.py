from .mask_heads import DepthwiseFCNMaskHead

__all__ = ['DepthwiseFCNMaskHead']
