from .depthwise_resnet import (DepthwiseBasicBlock, DepthwiseBottleneck,
                               DepthwiseResNet)

__all__ = ['DepthwiseBasicBlock', 'DepthwiseBottleneck', 'DepthwiseResNet']
