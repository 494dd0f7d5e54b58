# feather-mmdet's runtime, opt-in: add this file to a config's `_base_` list
# (the root config of configs/feather_mask_rcnn/ does) to get
# - FeatherRunner: the model config is checked before anything is built or
#   written (unknown types/arguments name the closest valid ones), the data
#   before datasets are built; distributed training on CPU (gloo) works with
#   `--launcher pytorch`;
# - four hooks, each independent of the others.
custom_imports = dict(imports=['feather_mmdet'], allow_failed_imports=False)

runner_type = 'FeatherRunner'
custom_hooks = [
    # Stop at the first NaN/inf loss, naming the iteration and loss terms.
    dict(type='StopOnInvalidLossHook'),
    # Refuse half-matching checkpoints unless allow_partial_load=True.
    dict(type='CheckpointCompatibilityHook'),
    # Store the torch RNG state so --resume continues exactly.
    dict(type='ResumeRandomStateHook'),
    # On CPU: channels_last convs (faster training, same computation);
    # nothing on a GPU.
    dict(type='CPUSpeedHook'),
]
