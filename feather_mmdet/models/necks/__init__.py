from .depthwise_fpn import DepthwiseFPN

__all__ = ['DepthwiseFPN']
