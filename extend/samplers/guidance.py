"""Reconstruction guidance (Ho et al. 2022, eq. 7; DPS, Chung et al. 2023; CQT-Diff, Moliner et al. 2023)."""

from __future__ import annotations

import math

import torch

from diffwave.io.numbers import is_number
from diffwave.sampling import Denoiser, predict_eps, step_from_eps, x0_estimate
from diffwave.schedule import Schedule

from .common import noised_known, start
from .registry import Callback, register


def check_guidance(steps: int, weight: float = 2.0) -> None:
    if not (is_number(weight) and math.isfinite(weight) and weight >= 0.0):
        raise ValueError(f"guidance needs a weight >= 0, got {weight!r}")


@register("guidance", check=check_guidance)
def guidance(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback = None,
             weight: float = 2.0) -> torch.Tensor:
    """Replacement plus reconstruction guidance: the clean estimate is corrected by the gradient of
    the known region's error, taken through the denoiser (Ho et al. 2022, eq. 7),

        e = mask * (known - x0(x_n)),   x0~ = x0 - (w sqrt(abar_n) / 2) grad_{x_n} ||e||^2,

    and the DDPM step (eq. 11) is taken from x0~ (as eps~ = (x_n - sqrt(abar_n) x0~) / sqrt(1 - abar_n)).
    ``weight`` w is dimensionless: with a denoiser that passes x_n through, w = 1 moves x0 by
    the error itself, so it needs no retuning for the data's level. w = 0 is naive replacement.
    The default w = 2 is the best of 0.3-8 on the exact-posterior oracle at 50 steps (KS near
    the seam 0.175 against 0.203 at w = 1 and 0.22 at w = 4), at two signal levels alike.
    NFE = S forward passes, each with a backward pass through the network (about 3x the cost).
    """
    x = start(noise, known, mask, schedule)
    for i, n in enumerate(reversed(range(len(schedule)))):
        abar = float(schedule.alpha_bars[n])
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            eps = predict_eps(model, xg, schedule, n)
            x0 = x0_estimate(xg, eps, schedule, n)
            error = (mask * (known - x0)).pow(2).sum()
            grad = torch.autograd.grad(error, xg)[0] if weight > 0 else torch.zeros_like(x)
        with torch.no_grad():
            x0_guided = x0.detach() - 0.5 * weight * abar**0.5 * grad
            eps_guided = (x - abar**0.5 * x0_guided) / (1.0 - abar) ** 0.5
            x_model = step_from_eps(x, eps_guided, schedule, n, generator)
            x_next = mask * noised_known(known, schedule.alpha_bar_after(n), generator) + (1.0 - mask) * x_model
            if callback is not None:
                callback({"i": i, "n": n, "x": x_next, "x0": x0_guided})
        x = x_next
    return x
