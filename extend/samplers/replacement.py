"""Replacement and interpolation guidance: naive (paper eqs. 16-18) and reverse lambda (eqs. 19-21)."""

from __future__ import annotations

import torch

from diffwave.sampling import Denoiser, predict_eps, step_from_eps, x0_estimate
from diffwave.schedule import Schedule

from .common import noised_known, start
from .registry import Callback, register
from .schedules import lambda_schedule


def guided(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback,
           lambdas: torch.Tensor) -> torch.Tensor:
    """Interpolation guidance (paper eqs. 20-21): after each reverse step, in the known region
    x = (1 - lambda_i) x_known + lambda_i x_model; the generated region is x_model."""
    if len(lambdas) != len(schedule):
        raise ValueError(f"need one lambda per step: {len(lambdas)} for {len(schedule)} steps")
    x = start(noise, known, mask, schedule)
    for i, n in enumerate(reversed(range(len(schedule)))):
        eps = predict_eps(model, x, schedule, n)
        x_model = step_from_eps(x, eps, schedule, n, generator)
        x_known = noised_known(known, schedule.alpha_bar_after(n), generator)
        lam = float(lambdas[i])
        x_next = mask * ((1.0 - lam) * x_known + lam * x_model) + (1.0 - mask) * x_model
        if callback is not None:
            callback({"i": i, "n": n, "x": x_next, "x0": x0_estimate(x, eps, schedule, n)})
        x = x_next
    return x


@register("naive")
@torch.no_grad()
def naive(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback = None) -> torch.Tensor:
    """Replacement ("do nothing", paper eqs. 16-18): the known region is overwritten by
    q(x_{t-1} | x_0) after every reverse step, i.e. guidance with lambda = 0. NFE = S."""
    return guided(model, noise, known, mask, schedule, generator, callback, torch.zeros(len(schedule)))


@register("lambda")
@torch.no_grad()
def reverse_lambda(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback = None,
                   lambdas: torch.Tensor | None = None) -> torch.Tensor:
    """Interpolation guidance with the reverse lambda schedule (paper eqs. 19-21). NFE = S.

    ``lambdas`` [S] defaults to :func:`extend.samplers.schedules.lambda_schedule`: the known audio
    dominates early, and the model's own estimate takes over late (lambda = 1 at the end).
    """
    lam = lambda_schedule(len(schedule)) if lambdas is None else lambdas
    return guided(model, noise, known, mask, schedule, generator, callback, lam)
