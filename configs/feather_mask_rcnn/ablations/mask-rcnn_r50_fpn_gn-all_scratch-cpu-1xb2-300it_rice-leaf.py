# The dense rice CPU recipe with GroupNorm in the backbone, FPN and mask head
# (mmdet's configs/scratch recipe, "GN-all", minus its 4-conv box head, which
# would add ~15 GFLOPs per image on 128 RoIs). GN does not depend on the
# batch of 2 that BN sees here; no weight decay on the norms, as there.
_base_ = '../mask-rcnn_r50_fpn_scratch-cpu-1xb2-300it_rice-leaf.py'

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(mask_head=dict(norm_cfg=norm_cfg)))
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=0.))
