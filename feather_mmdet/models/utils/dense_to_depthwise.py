# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Turn dense conv weights into depthwise-separable ones.

A dense ``k x k`` conv ``W`` (out x in x k x k) followed by nothing
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
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor


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
