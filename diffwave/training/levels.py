"""Noise-level maps: one diffusion level per sample, for training with mixed levels.

Diffusion forcing (Chen et al. 2024) trains a sequence model with an independent noise level
per position, so it learns to predict a noisy future from a cleaner past. For a waveform
network a level per sample would be white noise in the level itself, so a map here is
piecewise constant: a *target* segment at the row's level t, and *context* around it at a
level t_c <= t (often 0, the cleanest training level). The shapes are the ones the
samplers meet: a continuation (context, then target to the end of the crop) and a gap
(context on both sides). Shapes: t [B], maps [B, L] (int64 training steps).
"""

from __future__ import annotations

import torch

CLEAN_CONTEXT = 0.5  # share of mixed rows whose context is at level 0, as a clean prompt is


def level_maps(t: torch.Tensor, length: int, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Level maps [B, L] from row levels ``t`` [B]: a ``fraction`` of rows get mixed levels.

    Mixed row b: target [start, end) at t[b], where start ~ U[0.1 L, 0.9 L) and end is L
    (continuation) or uniform in (start, L] (gap), each half the time; context at 0 half the
    time, else uniform in [0, t[b]]. Other rows are t[b] everywhere (the ordinary objective).
    All draws come from ``generator``, in a fixed order, so a resumed run replays them.
    """
    batch, device = t.shape[0], t.device  # draws on t's device, from a generator there
    u = torch.rand(batch, 5, generator=generator, device=device)  # mixed?, clean?, context level, start, end
    mixed = u[:, 0] < fraction
    context = torch.where(u[:, 1] < CLEAN_CONTEXT, torch.zeros_like(t),
                          torch.floor(u[:, 2] * (t + 1).to(u.dtype)).long().clamp(max=t))
    start = (length * (0.1 + 0.8 * u[:, 3])).long()
    gap = torch.rand(batch, generator=generator, device=device) < 0.5
    end = torch.where(gap, start + 1 + (u[:, 4] * (length - start).to(u.dtype)).long(), torch.full_like(start, length))
    end = end.clamp(max=length)
    pos = torch.arange(length, device=device).unsqueeze(0)  # [1, L]
    target = (pos >= start.unsqueeze(1)) & (pos < end.unsqueeze(1))  # [B, L]
    maps = torch.where(target, t.unsqueeze(1), context.unsqueeze(1))
    return torch.where(mixed.unsqueeze(1), maps, t.unsqueeze(1).expand(batch, length))
