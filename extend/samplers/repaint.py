"""RePaint (Lugmayr et al. 2022): replacement with jumps back up the noise levels."""

from __future__ import annotations

import torch

from diffwave.sampling import Denoiser, predict_eps, renoise_step, step_from_eps, x0_estimate
from diffwave.schedule import Schedule

from .common import noised_known, start
from .registry import Callback, register
from .schedules import default_jump_length, repaint_schedule


def check_repaint(steps: int, jump_length: int | None = None, resample: int = 10) -> None:
    j = default_jump_length(steps) if jump_length is None else jump_length
    ok = isinstance(j, int) and isinstance(resample, int) and resample >= 1 and j >= 1 and (resample == 1 or j < steps)
    if not ok:
        raise ValueError(f"repaint needs 1 <= jump_length < steps ({steps}) and resample >= 1, got j={j}, r={resample}")


@register("repaint", check=check_repaint)
@torch.no_grad()
def repaint(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback = None,
            jump_length: int | None = None, resample: int = 10) -> torch.Tensor:
    """RePaint (Lugmayr et al. 2022, Alg. 1): replacement, plus jumps back up j levels by
    re-noising x_{t-1} -> x_t (DDPM eq. 2), ``resample`` times per jump point.
    ``jump_length`` None: :func:`extend.samplers.schedules.default_jump_length` (10 from 50 steps up).
    NFE = S + (r - 1)(S - j) when j divides S, 1910 for S=200, j=10, r=10."""
    j = default_jump_length(len(schedule)) if jump_length is None else jump_length
    path = repaint_schedule(len(schedule), j, resample)
    x = start(noise, known, mask, schedule)
    i = 0
    for level, nxt in zip(path, path[1:]):
        if nxt > level:  # 1. jump back: re-noise one level
            x = renoise_step(x, schedule, level, generator)
            continue
        n = level - 1  # 2. reverse step n: level n+1 -> n, then 3. replace the known region
        eps = predict_eps(model, x, schedule, n)
        x_model = step_from_eps(x, eps, schedule, n, generator)
        x_known = noised_known(known, schedule.alpha_bar_after(n), generator)
        x_next = mask * x_known + (1.0 - mask) * x_model
        if callback is not None:
            callback({"i": i, "n": n, "x": x_next, "x0": x0_estimate(x, eps, schedule, n)})
        x = x_next
        i += 1
    return x
