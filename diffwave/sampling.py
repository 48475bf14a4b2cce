"""DDPM building blocks shared by unconditional sampling and the inpainting samplers.

Notation (schedule of S steps, see :mod:`diffwave.schedule`): x at level n has
q(x_n | x_0) = N(sqrt(abar_n) x_0, (1 - abar_n) I). Shapes: audio [B, L].

| paper | code | what it is |
|---|---|---|
| t, T | ``t`` (training step fed to the net), ``config.num_steps`` | training step 0..T-1; fractional on fast schedules (``schedule.model_steps[n]``) |
| S | ``len(schedule)`` | reverse steps of the schedule used for sampling |
| n | ``n`` | schedule level, S-1 (noisiest) down to 0; reverse step n maps level n to n-1 |
| i | ``i`` | reverse steps taken so far, 0 at the start (the index of lambda_i and of callbacks) |
| beta_n, alpha_n, abar_n | ``schedule.betas[n]``, ``alphas[n]``, ``alpha_bars[n]`` | noise schedule; abar_n = prod_{k<=n} alpha_k |
| eps_theta(x_t, t) | ``model(x, t)`` | the denoiser's eps estimate, whatever the net predicts (eps or v) |
| x_0 | ``known`` / audio x ``config.data_scale`` | clean signal, in the model's units |
"""

from __future__ import annotations

from typing import Callable

import torch

from .schedule import Schedule

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x [B, L], t [B] or [B, L]) -> eps [B, L]


def initial_x(noise: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """x at the top level from standard-normal ``noise``: N(0, (1 - abar_S) I).

    With T=200 and beta_T=0.02, abar_T ~ 0.13, so x_T is not N(0, I); for zero-mean audio of
    RMS << 1 its marginal is N(0, (1 - abar_T) I + abar_T Cov[x_0]) ~ N(0, (1 - abar_T) I).
    """
    return noise * (1.0 - float(schedule.alpha_bars[-1])) ** 0.5


def forward_noise(x0: torch.Tensor, alpha_bar: float | torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Sample q(x_n | x_0) = sqrt(abar) x_0 + sqrt(1 - abar) z   (DDPM eq. 4).

    ``alpha_bar``: a float, or a tensor broadcastable to x0 (training: [B, 1], one level per row).
    """
    return alpha_bar**0.5 * x0 + (1.0 - alpha_bar) ** 0.5 * noise


def predict_eps(model: Denoiser, x: torch.Tensor, schedule: Schedule, n: int) -> torch.Tensor:
    t = torch.full((x.shape[0],), float(schedule.model_steps[n]), device=x.device)
    return model(x, t)


def reverse_step(
    model: Denoiser, x: torch.Tensor, schedule: Schedule, n: int, generator: torch.Generator
) -> torch.Tensor:
    """One ancestral step x_n -> x_{n-1} (DDPM eq. 11, formula in :mod:`diffwave.schedule`)."""
    return step_from_eps(x, predict_eps(model, x, schedule, n), schedule, n, generator)


def step_from_eps(x: torch.Tensor, eps: torch.Tensor, schedule: Schedule, n: int,
                  generator: torch.Generator) -> torch.Tensor:
    """x_{n-1} [B, L] from x_n and an eps estimate [B, L] (DDPM eq. 11)."""
    beta, alpha, abar = float(schedule.betas[n]), float(schedule.alphas[n]), float(schedule.alpha_bars[n])
    mean = (x - beta / (1.0 - abar) ** 0.5 * eps) / alpha**0.5
    sigma = schedule.sigma(n)
    if sigma == 0.0:
        return mean
    z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return mean + sigma * z


def x0_estimate(x: torch.Tensor, eps: torch.Tensor, schedule: Schedule, n: int) -> torch.Tensor:
    """The denoiser's clean estimate at level n: (x_n - sqrt(1 - abar_n) eps) / sqrt(abar_n)   (DDPM eq. 15). [B, L]"""
    abar = float(schedule.alpha_bars[n])
    return (x - (1.0 - abar) ** 0.5 * eps) / abar**0.5


def renoise_step(x: torch.Tensor, schedule: Schedule, n: int, generator: torch.Generator) -> torch.Tensor:
    """One forward step x_{n-1} -> x_n: sqrt(alpha_n) x + sqrt(beta_n) z   (DDPM eq. 2)."""
    z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return float(schedule.alphas[n]) ** 0.5 * x + float(schedule.betas[n]) ** 0.5 * z


@torch.no_grad()
def generate(
    model: Denoiser,
    noise: torch.Tensor,
    schedule: Schedule,
    generator: torch.Generator,
    callback: Callable[[dict], None] | None = None,
) -> torch.Tensor:
    """Unconditional ancestral sampling from standard-normal ``noise`` [B, L] -> audio [B, L]."""
    x = initial_x(noise, schedule)
    for i, n in enumerate(reversed(range(len(schedule)))):
        eps = predict_eps(model, x, schedule, n)
        x_next = step_from_eps(x, eps, schedule, n, generator)
        if callback is not None:
            callback({"i": i, "n": n, "x": x_next, "x0": x0_estimate(x, eps, schedule, n)})
        x = x_next
    return x
