from .depthwise_fcn_mask_head import DepthwiseFCNMaskHead

__all__ = ['DepthwiseFCNMaskHead']
