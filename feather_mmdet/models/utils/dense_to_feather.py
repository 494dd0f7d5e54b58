# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Start a Feather model from dense weights: every tensor whose name and
shape match is copied, every dense conv that Feather made depthwise-separable
is decomposed, and whatever cannot be mapped is listed. Usable from a config as an initializer::

    model = dict(init_cfg=dict(type='DenseToFeather',
                               checkpoint='mask_rcnn_r50_fpn.pth'))
    # or on the backbone, from an ImageNet ResNet-50 (torchvision names):
    model = dict(backbone=dict(init_cfg=dict(
        type='DenseToFeather', checkpoint='resnet50.pth')))

Public: :class:`DenseToFeatherInit`, :func:`convert_dense_state_dict`,
:func:`load_converted`, :class:`ConversionError`, :class:`ConversionReport`;
the rest serves them and the calibrated conversion of
:mod:`feather_mmdet.apis.convert`.

The decomposition: a dense ``k x k`` conv ``W`` (out x in x k x k) followed by nothing
nonlinear is approximated by a depthwise ``k x k`` ``D`` (one filter per
input channel) and a pointwise ``1 x 1`` ``P``:
``W[:, i] ~ P[:, i] D[i]``, a rank-1 fit of each ``out x k^2`` slice, which
an SVD solves exactly in the least-squares sense.

Feather's separable blocks put an activation (with a norm or a bias) between
``D`` and ``P``. A shift ``s_i`` on the depthwise output makes it (almost
always) positive, so the ReLU passes it unchanged; ``P s`` is then a constant
per output channel that the next norm's running mean, or the pointwise
bias, absorbs. With calibration data the shift is set from the observed
depthwise outputs and ``P`` (and the bias) are refitted by least squares on
the layer's real inputs.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from mmcv.cnn import DepthwiseSeparableConvModule
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from ...utils.checkpoint import install_safe_checkpoint_loader

#: Detector prefixes; a checkpoint with none of them is a bare backbone.
DETECTOR_PREFIXES = ('backbone.', 'neck.', 'rpn_head.', 'roi_head.',
                     'bbox_head.', 'mask_head.')


# -- dense k x k conv -> depthwise k x k + pointwise 1 x 1 ------------------


def rank1_decompose(weight: Tensor) -> Tuple[Tensor, Tensor, float]:
    """Closed-form depthwise x pointwise factorisation of a dense conv.

    Args:
        weight (Tensor): ``(out, in, kh, kw)`` dense weight (groups=1).

    Returns:
        tuple: depthwise ``(in, 1, kh, kw)``, pointwise ``(out, in, 1, 1)``
        and the relative Frobenius error ``||W - P*D|| / ||W||``.
    """
    out_c, in_c, kh, kw = weight.shape
    slices = weight.detach().double().permute(1, 0, 2, 3).reshape(
        in_c, out_c, kh * kw)
    u, s, vh = torch.linalg.svd(slices, full_matrices=False)
    # Split the singular value evenly so both factors have similar scale.
    root = s[:, :1].sqrt()
    depthwise = (vh[:, 0, :] * root).reshape(in_c, 1, kh, kw)
    pointwise = (u[:, :, 0] * root).t().reshape(out_c, in_c, 1, 1)
    approx = pointwise[:, :, 0, 0, None, None] * depthwise[:, 0][None]
    err = (weight.double() - approx).norm() / weight.double().norm().clamp(
        min=1e-12)
    return depthwise.to(weight.dtype), pointwise.to(weight.dtype), float(err)


def rectified_normal_moments(mean: Tensor, std: Tensor) -> Tuple[Tensor,
                                                                 Tensor]:
    """Mean and std of ``relu(x)`` for ``x ~ N(mean, std^2)`` (per channel):
    the data-free guess of a conv's input statistics after ``BN + ReLU``."""
    std = std.clamp(min=1e-6)
    z = mean / std
    normal = torch.distributions.Normal(0., 1.)
    cdf, pdf = normal.cdf(z), normal.log_prob(z).exp()
    m1 = mean * cdf + std * pdf
    m2 = (mean**2 + std**2) * cdf + mean * std * pdf
    return m1, (m2 - m1**2).clamp(min=0).sqrt()


def depthwise_output_moments(depthwise: Tensor, in_mean: Tensor,
                             in_std: Tensor) -> Tuple[Tensor, Tensor]:
    """Mean and (pessimistic, fully correlated) std of each depthwise
    channel's output for inputs with the given per-channel moments."""
    flat = depthwise.flatten(1)
    return flat.sum(1) * in_mean, flat.abs().sum(1) * in_std


def relu_shift(mean: Tensor, std: Tensor, sigmas: float = 3.0) -> Tensor:
    """Per-channel shift that lifts ``mean - sigmas * std`` to zero (never
    negative): the ReLU after it then passes ~99.9% of a normal input."""
    return (sigmas * std - mean).clamp(min=0)


def least_squares_pointwise(features: Tensor,
                            target: Tensor,
                            ridge: float = 1e-4
                            ) -> Tuple[Tensor, Tensor]:
    """Fit ``target ~ P @ features + c`` (ridge-regularised).

    Args:
        features (Tensor): ``(in, N)`` depthwise-branch outputs at N pixels.
        target (Tensor): ``(out, N)`` the dense conv's outputs there.
        ridge (float): Relative ridge term (times the mean feature energy).

    Returns:
        tuple: ``P`` as ``(out, in, 1, 1)`` and the constant ``c`` (out,).
    """
    x = torch.cat([features, torch.ones_like(features[:1])]).double()
    gram = x @ x.t()
    gram += ridge * gram.diagonal().mean() * torch.eye(
        len(gram), dtype=gram.dtype)
    sol = torch.linalg.solve(gram, x @ target.double().t()).t()
    return (sol[:, :-1].to(target.dtype)[:, :, None, None],
            sol[:, -1].to(target.dtype))


def relative_error(approx: Tensor, target: Tensor) -> float:
    """``||approx - target|| / ||target||``."""
    return float((approx - target).norm() / target.norm().clamp(min=1e-12))


def bn_moments(state: Dict[str, Tensor],
               prefix: str) -> Optional[Tuple[Tensor, Tensor]]:
    """Output mean/std of an eval-mode BN (``beta``, ``|gamma|``) from a
    state dict, or None if the keys are missing."""
    if f'{prefix}.weight' not in state or f'{prefix}.bias' not in state:
        return None
    return state[f'{prefix}.bias'].float(), state[f'{prefix}.weight'].float(
    ).abs()


# -- mapping a dense state dict onto a Feather model ------------------------


class ConversionError(ValueError):
    """Dense weights that cannot be turned into this model's weights."""


@dataclass
class SeparableConv:
    """One depthwise-separable conv of the Feather model and its sources."""

    name: str
    module: DepthwiseSeparableConvModule
    dense_weight: str
    dense_bias: Optional[str]
    # Where the constant P @ shift goes when the pointwise conv has no bias:
    # the running mean of the norm that follows it.
    next_norm: Optional[str]
    # The eval BN whose ReLU output feeds this conv (data-free moments).
    input_norm: Optional[str]


@dataclass
class ConversionReport:
    """What happened to every tensor of the Feather model."""

    copied: List[str] = field(default_factory=list)
    decomposed: Dict[str, float] = field(default_factory=dict)
    not_mapped: List[str] = field(default_factory=list)
    unused: List[str] = field(default_factory=list)

    def summary(self) -> str:
        errs = sorted(self.decomposed.values())
        median = errs[len(errs) // 2] if errs else float('nan')
        worst = errs[-1] if errs else float('nan')
        return (f'{len(self.copied)} tensors copied, {len(self.decomposed)} '
                f'dense convs decomposed (weight rel. error median '
                f'{median:.3f}, worst {worst:.3f}), {len(self.not_mapped)} '
                f'Feather tensors without a dense counterpart (random init)'
                f'{": " + str(self.not_mapped[:6]) if self.not_mapped else ""}'
                f', {len(self.unused)} dense tensors unused')


def normalize_dense_keys(model: nn.Module, state: Dict[str, Tensor],
                         is_backbone: bool) -> Dict[str, Tensor]:
    """Bring a dense state dict to the model's naming: strip ``module.``;
    prefix a bare (torchvision-named) ResNet with ``backbone.`` for a
    detector; keep only ``backbone.*`` (stripped) for a backbone."""
    state = {k: v for k, v in state.items() if torch.is_tensor(v)}
    consume_prefix_in_state_dict_if_present(state, 'module.')
    bare = not any(k.startswith(DETECTOR_PREFIXES) for k in state)
    if is_backbone:
        return state if bare else {
            k[len('backbone.'):]: v
            for k, v in state.items() if k.startswith('backbone.')
        }
    return {f'backbone.{k}': v for k, v in state.items()} if bare else state


def find_separable_convs(model: nn.Module,
                         dense: Dict[str, Tensor]) -> List[SeparableConv]:
    """Every depthwise-separable conv with a dense conv of the same name."""
    modules = dict(model.named_modules())
    found = []
    for name, module in modules.items():
        if not isinstance(module, DepthwiseSeparableConvModule):
            continue
        weight = next((k for k in (f'{name}.weight', f'{name}.conv.weight')
                       if k in dense), None)
        if weight is None:
            continue
        bias = weight[:-len('weight')] + 'bias'
        parent_name, _, attr = name.rpartition('.')
        parent = modules.get(parent_name)
        next_norm = input_norm = None
        if attr.startswith('conv') and attr[4:].isdigit() and parent:
            idx = int(attr[4:])
            norm = getattr(parent, f'norm{idx}_name', None)
            next_norm = f'{parent_name}.{norm}' if norm else None
            prev = getattr(parent, f'norm{idx - 1}_name', None)
            input_norm = f'{parent_name}.{prev}' if prev else None
        found.append(
            SeparableConv(name, module, weight,
                          bias if bias in dense else None, next_norm,
                          input_norm))
    return found


def set_depthwise(out: Dict[str, Tensor], sep: SeparableConv,
                   depthwise: Tensor, shift: Tensor, mean: Tensor,
                   std: Tensor) -> None:
    """Depthwise conv, and its norm/bias so that the activation sees
    ``depthwise(x) + shift``."""
    dw = sep.module.depthwise_conv
    out[f'{sep.name}.depthwise_conv.conv.weight'] = depthwise
    if dw.with_norm:
        # Eval: gamma * (z - mean) / std + beta == z + shift exactly; in
        # training, batch statistics near (mean, std) give nearly the same.
        norm = f'{sep.name}.depthwise_conv.{dw.norm_name}'
        eps = dw.norm.eps
        std = std.clamp(min=1e-3)
        out[f'{norm}.weight'] = (std**2 + eps).sqrt()
        out[f'{norm}.bias'] = mean + shift
        out[f'{norm}.running_mean'] = mean
        out[f'{norm}.running_var'] = std**2
        if f'{norm}.num_batches_tracked' in dict(
                sep.module.state_dict(prefix=f'{sep.name}.')):
            out[f'{norm}.num_batches_tracked'] = torch.tensor(0)
    elif dw.conv.bias is not None:
        out[f'{sep.name}.depthwise_conv.conv.bias'] = shift
    elif shift.abs().max() > 0:
        raise ConversionError(f'{sep.name}: no norm or bias after the '
                              'depthwise conv to carry the ReLU shift')


def set_pointwise(out: Dict[str, Tensor], dense: Dict[str, Tensor],
                  sep: SeparableConv, pointwise: Tensor,
                  offset: Tensor) -> None:
    """Pointwise conv, and where its constant goes, so that the separable
    conv computes ``P @ branch + offset`` in the dense conv's output space:
    the pointwise bias, or (no bias) the next norm's running mean."""
    out[f'{sep.name}.pointwise_conv.conv.weight'] = pointwise
    if sep.module.pointwise_conv.conv.bias is not None:
        out[f'{sep.name}.pointwise_conv.conv.bias'] = offset
    elif sep.next_norm and f'{sep.next_norm}.running_mean' in dense:
        key = f'{sep.next_norm}.running_mean'
        out[key] = dense[key] - offset
    elif offset.abs().max() > 0:
        raise ConversionError(
            f'{sep.name}: the pointwise conv has no bias and no norm follows '
            'it, so the shift cannot be compensated')


def current_offset(state: Dict[str, Tensor], dense: Dict[str, Tensor],
                   sep: SeparableConv) -> Tensor:
    """The ``offset`` of :func:`set_pointwise` that ``state`` holds."""
    if sep.module.pointwise_conv.conv.bias is not None:
        return state[f'{sep.name}.pointwise_conv.conv.bias']
    key = f'{sep.next_norm}.running_mean'
    return dense[key] - state[key]


def decompose_data_free(sep: SeparableConv, dense: Dict[str, Tensor],
                        out: Dict[str, Tensor]) -> float:
    """Closed-form conversion of one conv; returns the weight error."""
    weight = dense[sep.dense_weight].float()
    depthwise, pointwise, err = rank1_decompose(weight)
    moments = bn_moments(dense, sep.input_norm) if sep.input_norm else None
    if moments is not None:
        in_mean, in_std = rectified_normal_moments(*moments)
    else:  # unknown input: assume unit-scale, non-negative activations
        in_mean = torch.full((weight.shape[1], ), 0.5)
        in_std = torch.ones(weight.shape[1])
    mean, std = depthwise_output_moments(depthwise, in_mean, in_std)
    shift = relu_shift(mean, std) if \
        sep.module.depthwise_conv.with_activation else torch.zeros_like(mean)
    set_depthwise(out, sep, depthwise, shift, mean, std)
    # P (D x + s) = W x + P s: the offset takes P s back out (and adds the
    # dense conv's bias, if any).
    bias = dense[sep.dense_bias].float() if sep.dense_bias else 0
    set_pointwise(out, dense, sep, pointwise,
                  bias - pointwise[:, :, 0, 0] @ shift)
    return err


def convert_dense_state_dict(
        model: nn.Module,
        dense: Dict[str, Tensor],
        is_backbone: bool = False
) -> Tuple[Dict[str, Tensor], ConversionReport]:
    """Data-free conversion of a dense state dict to ``model``'s weights.

    Args:
        model (nn.Module): The Feather model (or backbone) to initialise.
        dense (dict): The dense state dict (detector or bare ResNet).
        is_backbone (bool): ``model`` is a backbone, not a detector.

    Returns:
        tuple: A state dict for ``model`` (only the tensors that could be
        mapped) and the report.
    """
    dense = normalize_dense_keys(model, dense, is_backbone)
    target = model.state_dict()
    out: Dict[str, Tensor] = {}
    report = ConversionReport()
    seps = find_separable_convs(model, dense)
    for sep in seps:
        report.decomposed[sep.name] = decompose_data_free(sep, dense, out)
    # Dense tensors consumed: decomposed convs, and norms they adjusted.
    used = {s.dense_weight for s in seps} | {
        s.dense_bias for s in seps if s.dense_bias} | (set(out) & set(dense))
    for key, value in target.items():
        if key in out:
            continue
        if key in dense and dense[key].shape == value.shape:
            out[key] = dense[key]
            report.copied.append(key)
            used.add(key)
        else:
            report.not_mapped.append(key)
    report.unused = sorted(set(dense) - used)
    for key, value in out.items():
        if value.shape != target[key].shape:
            raise ConversionError(
                f'{key}: converted shape {tuple(value.shape)} does not fit '
                f'the model {tuple(target[key].shape)}')
        out[key] = value.to(target[key].dtype)
    return out, report


def load_converted(model: nn.Module, state: Dict[str, Tensor],
                   report: ConversionReport) -> None:
    """Load strictly except for the tensors the report lists as not mapped
    (no silent partial loads)."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    surprise = sorted(set(missing) - set(report.not_mapped))
    if unexpected or surprise:
        raise ConversionError(
            f'conversion left unexpected keys {unexpected[:5]} / missing '
            f'keys {surprise[:5]}')


@WEIGHT_INITIALIZERS.register_module(name='DenseToFeather')
class DenseToFeatherInit(PretrainedInit):
    """Initialise a Feather model or backbone from a dense checkpoint
    (data-free conversion; ``tools/convert_dense_to_feather.py`` adds the
    calibrated mode).

    Args:
        checkpoint (str): Dense mmdet Mask R-CNN checkpoint or a ResNet
            state dict in torchvision/mmdet naming. Local files only.
        max_not_mapped (int, optional): Fail if more Feather tensors than
            this have no dense counterpart (e.g. a checkpoint of another
            architecture). Defaults to None (report only).
        map_location (str): Defaults to ``'cpu'``.
    """

    def __init__(self,
                 checkpoint: str,
                 max_not_mapped: Optional[int] = None,
                 map_location: str = 'cpu') -> None:
        super().__init__(checkpoint=checkpoint, map_location=map_location)
        self.max_not_mapped = max_not_mapped

    def __call__(self, module: nn.Module) -> None:
        # mmengine runs a module's own init_cfg *before* its children's
        # init_weights (only type='Pretrained' is deferred), which would
        # overwrite the converted weights. So: initialise the children now
        # (what has no dense counterpart gets its normal init), convert on
        # top, and mark the children initialised.
        for child in module.children():
            if hasattr(child, 'init_weights') and \
                    not getattr(child, 'is_init', False):
                child.init_weights()
                child._is_init = True
        install_safe_checkpoint_loader()
        ckpt = _load_checkpoint(self.checkpoint,
                                map_location=self.map_location)
        dense = ckpt.get('state_dict', ckpt)
        is_backbone = not hasattr(module, 'backbone')
        state, report = convert_dense_state_dict(module, dense, is_backbone)
        if not report.copied and not report.decomposed:
            raise ConversionError(
                f'{self.checkpoint!r}: not one tensor of it maps onto the '
                'model (0 copied, 0 decomposed); give a dense Mask R-CNN '
                'R50 or ResNet checkpoint of this architecture.')
        if self.max_not_mapped is not None and \
                len(report.not_mapped) > self.max_not_mapped:
            raise ConversionError(
                f'{self.checkpoint!r}: {len(report.not_mapped)} tensors of '
                f'the model have no counterpart in it (allowed '
                f'{self.max_not_mapped}), e.g. {report.not_mapped[:5]}; is '
                'it a checkpoint of another architecture?')
        load_converted(module, state, report)
        print_log(f'DenseToFeather from {self.checkpoint}: '
                  f'{report.summary()}', logger='current')

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'
