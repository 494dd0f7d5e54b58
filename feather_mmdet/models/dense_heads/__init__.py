from .depthwise_rpn_head import DepthwiseRPNHead

__all__ = ['DepthwiseRPNHead']
