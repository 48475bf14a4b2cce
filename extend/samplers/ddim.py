"""DDIM (Song et al. 2021) with an eta knob, and replacement in the known region."""

from __future__ import annotations

import math

import torch

from diffwave.io.numbers import is_number
from diffwave.sampling import Denoiser, forward_noise, predict_eps, x0_estimate
from diffwave.schedule import Schedule

from .common import start
from .registry import Callback, register


def check_ddim(steps: int, eta: float = 0.0) -> None:
    if not (is_number(eta) and math.isfinite(eta) and 0.0 <= eta <= 1.0):
        raise ValueError(f"ddim needs 0 <= eta <= 1, got eta={eta!r}")


@register("ddim", check=check_ddim)
@torch.no_grad()
def ddim(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback = None,
         eta: float = 0.0) -> torch.Tensor:
    """DDIM steps (Song et al. 2021, eq. 12) from level n to n-1, abar' = abar_{n-1}:

        x0 = (x_n - sqrt(1 - abar_n) eps) / sqrt(abar_n)
        sigma = eta sqrt((1 - abar') / (1 - abar_n)) sqrt(1 - abar_n / abar')
        x_{n-1} = sqrt(abar') x0 + sqrt(1 - abar' - sigma^2) eps + sigma z

    eta = 0 is deterministic, eta = 1 has DDPM's posterior variance. The known region is
    replaced by sqrt(abar') known + sqrt(1 - abar') noise with the *initial* noise draw, so
    with eta = 0 the whole run is a function of ``noise`` alone (the generator is unused).
    NFE = S.
    """
    x = start(noise, known, mask, schedule)
    for i, n in enumerate(reversed(range(len(schedule)))):
        abar, prev = float(schedule.alpha_bars[n]), schedule.alpha_bar_after(n)
        eps = predict_eps(model, x, schedule, n)
        x0 = x0_estimate(x, eps, schedule, n)
        sigma = eta * ((1.0 - prev) / (1.0 - abar) * (1.0 - abar / prev)) ** 0.5
        x_model = prev**0.5 * x0 + max(1.0 - prev - sigma**2, 0.0) ** 0.5 * eps
        if sigma > 0.0:
            x_model = x_model + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x_next = mask * forward_noise(known, prev, noise) + (1.0 - mask) * x_model
        if callback is not None:
            callback({"i": i, "n": n, "x": x_next, "x0": x0})
        x = x_next
    return x
