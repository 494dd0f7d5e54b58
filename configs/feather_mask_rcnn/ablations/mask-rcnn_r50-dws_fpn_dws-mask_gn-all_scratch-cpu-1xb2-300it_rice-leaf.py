# Feather Mask R-CNN, GN-all rice CPU recipe: the dense GN-all recipe with the
# paper's depthwise backbone and mask head.
_base_ = './mask-rcnn_r50_fpn_gn-all_scratch-cpu-1xb2-300it_rice-leaf.py'

model = dict(
    backbone=dict(type='DepthwiseResNet'),
    roi_head=dict(mask_head=dict(type='DepthwiseFCNMaskHead')))
