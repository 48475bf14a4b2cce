"""Clean-context sampling for models trained with mixed noise levels (diffusion forcing)."""

from __future__ import annotations

import torch

from diffwave.sampling import Denoiser, step_from_eps, x0_estimate
from diffwave.schedule import Schedule

from .common import noised_known, start
from .registry import Callback, register


@register("forcing", requires="mixed_levels")
@torch.no_grad()
def forcing(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback = None) -> torch.Tensor:
    """Clean-context sampling (diffusion forcing, Chen et al. 2024) for models trained with mixed
    levels. Every pass sees the known region at the schedule's cleanest level (a fresh draw of
    q(x | known) at abar_0, labelled t = model_steps[0]) beside the generated region at level n,
    through a level map t [B, L]; the generated region takes the DDPM step (eq. 11). With an
    exact denoiser this samples p(new | known) up to that level's noise, with no guidance
    and no resampling. NFE = S.
    """
    x = start(noise, known, mask, schedule)
    abar0, t0 = float(schedule.alpha_bars[0]), float(schedule.model_steps[0])
    mask = torch.broadcast_to(mask, x.shape)
    for i, n in enumerate(reversed(range(len(schedule)))):
        x_in = mask * noised_known(known, abar0, generator) + (1.0 - mask) * x
        t = (mask * t0 + (1.0 - mask) * float(schedule.model_steps[n])).to(x.dtype)  # [B, L]
        eps = model(x_in, t)
        x_next = mask * known + (1.0 - mask) * step_from_eps(x, eps, schedule, n, generator)
        if callback is not None:  # x0 is the generated region's estimate (the known region is known)
            callback({"i": i, "n": n, "x": x_next, "x0": mask * known + (1.0 - mask) * x0_estimate(x, eps, schedule, n)})
        x = x_next
    return x
