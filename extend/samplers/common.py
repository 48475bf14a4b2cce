"""Pieces every sampler shares: the starting point x_T and fresh draws of the noised known audio."""

from __future__ import annotations

import torch

from diffwave.sampling import forward_noise, initial_x
from diffwave.schedule import Schedule


def start(noise: torch.Tensor, known: torch.Tensor, mask: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """x_T = sqrt(1 - abar_T) noise + sqrt(abar_T) known: q(x_T | known) in the known region and
    q(x_T | guess) where ``known`` holds a guess for the generated audio (N(0, 1 - abar_T) where it
    is 0). All [B, L]; ``mask`` is part of the shared signature and not needed here."""
    abar = float(schedule.alpha_bars[-1])
    return initial_x(noise, schedule) + abar**0.5 * known


def noised_known(known: torch.Tensor, alpha_bar: float, generator: torch.Generator) -> torch.Tensor:
    """A fresh sample of q(x | known) at level ``alpha_bar`` (exactly ``known`` when clean)."""
    if alpha_bar >= 1.0:
        return known
    z = torch.randn(known.shape, generator=generator, device=known.device, dtype=known.dtype)
    return forward_noise(known, alpha_bar, z)
