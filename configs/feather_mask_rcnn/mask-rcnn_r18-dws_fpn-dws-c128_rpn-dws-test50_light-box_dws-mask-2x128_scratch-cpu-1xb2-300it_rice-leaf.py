# Tiny Feather on rice, test-time variant for small inputs: the tiny rice
# recipe (same model, same checkpoints) with 50 test proposals and 50
# detections (rice has up to 40 lesions per image) instead of 300 / 100.
# At 416x416 the 300 RoIs through the RoI heads cost more than the backbone.
# Measured in docs/benchmark.md ("Fewer test proposals").
_base_ = './mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py'

model = dict(
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=50), rcnn=dict(max_per_img=50)))
