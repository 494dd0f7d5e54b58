"""The fast CPU inference path (BN folding incl. depthwise blocks)."""
import pytest
import torch
from mmdet.testing import demo_mm_inputs

from feather_mmdet.apis import optimize_for_cpu_inference
from helpers import FULL, PAPER, build, config


@pytest.mark.parametrize('name, stem', [(PAPER, False), (FULL, False),
                                        (PAPER, True)])
def test_fast_path_matches_plain_model(name, stem):
    cfg = config(name).model
    cfg.backbone.use_depthwise_stem = stem
    model = build(cfg)
    model.init_weights()
    # Non-trivial BN statistics, so that a wrong fusion would show.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    model.eval()
    data = model.data_preprocessor(
        demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)],
                       num_items=[1], with_mask=False), False)
    # Fixed RoIs: the RoI features read the (channels_last) feature maps.
    rois = torch.tensor([[0, 8., 8., 90., 70.], [0, 30., 20., 150., 120.]])
    extractor = model.roi_head.bbox_roi_extractor
    with torch.no_grad():
        plain = model.extract_feat(data['inputs'])
        plain_rois = extractor(plain[:extractor.num_inputs], rois)
        optimize_for_cpu_inference(model)
        fast = model.extract_feat(data['inputs'])
        fast_rois = extractor(fast[:extractor.num_inputs], rois)
    assert torch.allclose(plain_rois, fast_rois, atol=1e-4, rtol=1e-4)
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert n_bn == 0, 'every BN folded, depthwise blocks included'
    for p, f in zip(plain, fast):
        assert torch.allclose(p, f, atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
    assert results[0].pred_instances.masks.shape[1:] == (128, 160)
