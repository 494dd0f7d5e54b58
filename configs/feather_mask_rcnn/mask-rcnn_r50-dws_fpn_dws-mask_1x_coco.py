# Feather Mask R-CNN: mmdet's Mask R-CNN R50-FPN 1x with a depthwise-separable
# ResNet-50 and a depthwise-separable FCN mask head, trained from scratch
# (nothing is downloaded). To start from a local ResNet-50 checkpoint:
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#                 model.backbone.init_cfg.checkpoint=/path/to/resnet50.pth
# The depthwise layers are then reported as missing keys in the log.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['feather_mmdet'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='DepthwiseResNet',
        # From scratch: train every stage and the BN statistics.
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    roi_head=dict(mask_head=dict(type='DepthwiseFCNMaskHead')))

# Checks config + data before running (clear errors instead of stack traces).
runner_type = 'FeatherRunner'
custom_hooks = [
    # Stop at the first NaN/inf loss, naming the iteration and loss terms.
    dict(type='StopOnInvalidLossHook'),
    # Refuse half-matching checkpoints unless allow_partial_load=True.
    dict(type='CheckpointCompatibilityHook'),
    # Store the torch RNG state so --resume continues exactly.
    dict(type='ResumeRandomStateHook'),
]
