# Copyright (c) feather-mmdet contributors. All rights reserved.
"""mmdet's two-stage post-processing, as an exported graph.

mmdeploy 1.3.1's rewrites of the two post-processing steps of a two-stage
detector differ from what mmdet computes:

- ``RPNHead.predict_by_feat``: one NMS over the proposals of all FPN levels,
  proposals below its post-processing score threshold (0.05) dropped and
  boxes of zero width kept. mmdet runs NMS per level (``batched_nms`` over
  level ids), thresholds nothing and drops boxes not larger than
  ``min_bbox_size``.
- ``BBoxHead.predict_by_feat`` with class-specific regression: every class
  of an RoI gets the box regressed for its best-scoring class. mmdet gives
  each class its own box, so any detection whose class is not its RoI's
  top class had the wrong box in the graph.

The rewrites below compute what mmdet computes, with the same ONNX
operators (``NonMaxSuppression`` over level-as-class scores; mmcv's
``batched_nms`` offset trick over (RoI, class) boxes). They are registered
with mmdeploy's rewriter registry behind a checker that is true only inside
:func:`mmdet_postprocess` (entered by this package's export), so other
mmdeploy exports in the process keep mmdeploy's own rewrites.
"""
import contextlib
from typing import Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdeploy.core import FUNCTION_REWRITER
from mmdeploy.core.rewriters.rewriter_utils import Checker
from mmdeploy.mmcv.ops import multiclass_nms
from torch import Tensor

#: Score given to a proposal that mmdet would drop (``min_bbox_size``) and to
#: the other levels' entries of a proposal: below the NMS threshold.
_DROPPED = -1.
_SCORE_THR = -0.5

_active = False


class _InFeatherExport(Checker):
    """Selects the rewrite only while this package exports."""

    def check(self, env: Dict) -> bool:
        return _active


@contextlib.contextmanager
def mmdet_postprocess() -> Iterator[None]:
    """Export mmdet's post-processing in mmdeploy exports inside this
    block."""
    global _active
    previous, _active = _active, True
    try:
        yield
    finally:
        _active = previous


def _level_proposals(head, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                     nms_pre: int) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Top ``nms_pre`` anchors of each level (mmdet's RPN
    ``_predict_by_feat_single``): scores, deltas, anchors and level ids, all
    levels concatenated, batch first."""
    batch = cls_scores[0].shape[0]
    mlvl_anchors = head.prior_generator.grid_priors(
        [s.shape[-2:] for s in cls_scores], device=cls_scores[0].device)
    scores, deltas, anchors, levels = [], [], [], []
    for level, (score, delta, anchor) in enumerate(
            zip(cls_scores, bbox_preds, mlvl_anchors)):
        score = score.permute(0, 2, 3, 1)
        if head.use_sigmoid_cls:
            score = score.reshape(batch, -1).sigmoid()
        else:  # foreground is class 0 of the softmax
            score = score.reshape(batch, -1, 2).softmax(-1)[..., 0]
        delta = delta.permute(0, 2, 3, 1).reshape(
            batch, -1, head.bbox_coder.encode_size)
        anchor = anchor.unsqueeze(0).expand(batch, -1, -1)
        if 0 < nms_pre < score.shape[1]:
            score, inds = score.topk(nms_pre, dim=1)
            delta = delta.gather(
                1, inds.unsqueeze(-1).expand(-1, -1, delta.shape[-1]))
            anchor = anchor.gather(
                1, inds.unsqueeze(-1).expand(-1, -1, anchor.shape[-1]))
        scores.append(score)
        deltas.append(delta)
        anchors.append(anchor)
        levels.append(torch.full_like(score, level, dtype=torch.long))
    return (torch.cat(scores, 1), torch.cat(deltas, 1), torch.cat(anchors, 1),
            torch.cat(levels, 1))


@FUNCTION_REWRITER.register_rewriter(
    func_name='mmdet.models.dense_heads.rpn_head.RPNHead.predict_by_feat',
    extra_checkers=_InFeatherExport())
def rpn_head__predict_by_feat__per_level_nms(
        self,
        cls_scores: List[Tensor],
        bbox_preds: List[Tensor],
        score_factors: Optional[List[Tensor]] = None,
        batch_img_metas: Optional[List[dict]] = None,
        cfg: Optional[dict] = None,
        rescale: bool = False,
        with_nms: bool = True) -> Tuple[Tensor, Tensor]:
    """Proposals as mmdeploy's two-stage rewrite expects them: ``dets``
    (B, max_per_img, 5) with the score last, and labels (here the level)."""
    assert with_nms, '`with_nms` must be True in RPNHead'
    cfg = self.test_cfg if cfg is None else cfg
    scores, deltas, anchors, levels = _level_proposals(
        self, cls_scores, bbox_preds, cfg.get('nms_pre', -1))
    boxes = self.bbox_coder.decode(
        anchors, deltas, max_shape=batch_img_metas[0]['img_shape'])
    if cfg.get('min_bbox_size', -1) >= 0:
        w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
        keep = (w > cfg.min_bbox_size) & (h > cfg.min_bbox_size)
        scores = torch.where(keep, scores, scores.new_full((1, ), _DROPPED))
    num_levels = len(cls_scores)
    own_level = levels.unsqueeze(-1) == torch.arange(
        num_levels, device=levels.device)
    level_scores = torch.where(own_level, scores.unsqueeze(-1),
                               scores.new_full((1, ), _DROPPED))
    return multiclass_nms(
        boxes,
        level_scores,
        max_output_boxes_per_class=cfg.max_per_img,
        iou_threshold=cfg.nms.get('iou_threshold', 0.7),
        score_threshold=_SCORE_THR,
        pre_top_k=-1,
        keep_top_k=cfg.max_per_img)


@FUNCTION_REWRITER.register_rewriter(
    func_name='mmdet.models.roi_heads.bbox_heads.bbox_head.BBoxHead.'
    'predict_by_feat',
    extra_checkers=_InFeatherExport())
def bbox_head__predict_by_feat__per_class_boxes(
        self,
        rois: Tensor,
        cls_scores: Tensor,
        bbox_preds: Tensor,
        batch_img_metas: List[dict],
        rcnn_test_cfg: Optional[dict] = None,
        rescale: bool = False) -> Tuple[Tensor, Tensor]:
    """mmdet's ``multiclass_nms`` over per-class boxes: ``dets`` (B, max_per_img,
    5) and labels, as mmdeploy's mask rewrite expects them.

    Every (RoI, class) pair is one candidate; shifting each class's boxes by
    ``class * (max(H, W) + 1)`` keeps classes apart in one NMS (boxes are
    clipped to the image), which is what mmcv's ``batched_nms`` does.
    """
    assert rois.ndim == 3, 'export with a batch dimension'
    img_shape = batch_img_metas[0]['img_shape']
    batch, num_rois = rois.shape[:2]
    num_classes = self.num_classes
    if self.custom_cls_channels:
        scores = self.loss_cls.get_activation(cls_scores)
    else:
        scores = F.softmax(cls_scores, dim=-1)
    scores = scores[..., :num_classes].reshape(batch, -1, 1)
    boxes = self.bbox_coder.decode(
        rois[..., 1:], bbox_preds, max_shape=img_shape)
    # (B, RoI, 1 or C, 4) -> one box per (RoI, class), class fastest
    boxes = boxes.reshape(batch, num_rois, -1, 4).expand(
        -1, -1, num_classes, -1).reshape(batch, -1, 4)
    labels = torch.arange(
        num_classes, device=boxes.device).repeat(num_rois)
    offsets = labels.to(boxes.dtype) * float(max(img_shape[:2]) + 1)
    keep_top_k = rcnn_test_cfg.max_per_img
    dets, _, index = multiclass_nms(
        boxes + offsets.view(1, -1, 1),
        scores,
        max_output_boxes_per_class=keep_top_k,
        iou_threshold=rcnn_test_cfg.nms.iou_threshold,
        score_threshold=rcnn_test_cfg.score_thr,
        pre_top_k=-1,
        keep_top_k=keep_top_k,
        output_index=True)
    # the padding row is -1 (score 0); Clip takes no int64 in opset 11
    index = torch.where(index >= 0, index, torch.zeros_like(index))
    det_boxes = boxes.gather(1, index.unsqueeze(-1).expand(-1, -1, 4))
    return torch.cat([det_boxes, dets[..., 4:]], -1), labels[index]
