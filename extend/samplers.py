"""Inpainting samplers: small pure functions with one signature, selected by name.

Every sampler is ``f(model, noise, known, mask, schedule, generator, callback=None, **knobs)``:

- ``model(x [B, L], t [B]) -> eps [B, L]``: the denoiser (a DiffWave, or any stand-in). A
  sampler registered with ``requires="mixed_levels"`` also passes a level map t [B, L].
- ``noise [B, L]``: standard-normal initial noise; x_T is built from it, so samplers given
  the same noise start from the identical x_T (the paper's fairness protocol).
- ``known [B, L]``: the known audio (anything where ``mask`` is 0).
- ``mask [B, L]`` or ``[L]``: 1.0 where audio is known, 0.0 where it is generated.
- ``schedule``: a :class:`diffwave.schedule.Schedule` (full or fast).
- ``generator``: the only source of randomness.
- ``callback({"i", "n", "x"})`` after every reverse step; i counts reverse steps taken.

Returns x_0 [B, L]. Adding a sampler means one function and one ``@register`` line.
A sampler with knobs owns their defaults (its keyword defaults, which may depend on the
schedule) and their checks (``@register(name, check=...)``), so callers pass only what the
user gave.
"""

from __future__ import annotations

import inspect
from typing import Callable, Optional

import torch

from diffwave.sampling import Denoiser, forward_noise, initial_x, renoise_step, reverse_step, step_from_eps
from diffwave.schedule import Schedule

from .schedules import default_jump_length, lambda_schedule, repaint_schedule

Callback = Optional[Callable[[dict], None]]
Sampler = Callable[..., torch.Tensor]
SAMPLERS: dict[str, Sampler] = {}
KnobCheck = Callable[..., None]  # (steps, **knobs) -> None, ValueError naming the bad knob
CHECKS: dict[str, KnobCheck] = {}
REQUIRES: dict[str, str] = {}  # sampler -> ModelConfig flag the model must have


SHARED = ("model", "noise", "known", "mask", "schedule", "generator", "callback")


def sampler_knobs(fn: Sampler) -> tuple[str, ...]:
    """The keyword options a sampler takes beyond the shared signature."""
    return tuple(inspect.signature(fn).parameters)[len(SHARED):]


def register(name: str, check: KnobCheck | None = None, requires: str | None = None) -> Callable[[Sampler], Sampler]:
    """Decorator adding a sampler to SAMPLERS; refuses one that breaks the shared signature.

    ``check(steps, **knobs)`` validates the sampler's knobs for an S-step schedule before any
    compute, raising ValueError with a one-line reason. ``requires`` names a boolean
    :class:`diffwave.config.ModelConfig` field the model must have set (:func:`check_model`).
    """

    def add(fn: Sampler) -> Sampler:
        params = tuple(inspect.signature(fn).parameters)
        if params[: len(SHARED)] != SHARED:
            raise TypeError(f"sampler {name!r} must start with parameters {SHARED}, got {params}")
        SAMPLERS[name] = fn
        if check is not None:
            CHECKS[name] = check
        if requires is not None:
            REQUIRES[name] = requires
        return fn

    return add


def check_knobs(name: str, steps: int, knobs: dict) -> None:
    """Refuse knobs ``name`` does not take, then run its own check (ValueError, one line)."""
    takes = set(sampler_knobs(SAMPLERS[name]))
    extra = sorted(set(knobs) - takes)
    if extra:
        raise ValueError(f"sampler {name!r} has no option {extra[0]!r}" + (f" (it takes {', '.join(sorted(takes))})" if takes else ""))
    if name in CHECKS:
        CHECKS[name](steps, **knobs)


def check_model(name: str, config) -> None:
    """Refuse a model that lacks what sampler ``name`` needs (ValueError, one line)."""
    need = REQUIRES.get(name)
    if need is not None and not getattr(config, need, False):
        raise ValueError(f"sampler {name!r} needs a model trained with --{need.replace('_', '-')}; this one was not")


def start(noise: torch.Tensor, known: torch.Tensor, mask: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """x_T: q(x_T | known) in the known region, N(0, 1 - abar_T) elsewhere, from one noise draw."""
    abar = float(schedule.alpha_bars[-1])
    return initial_x(noise, schedule) + mask * abar**0.5 * known


def noised_known(known: torch.Tensor, alpha_bar: float, generator: torch.Generator) -> torch.Tensor:
    """A fresh sample of q(x | known) at level ``alpha_bar`` (exactly ``known`` when clean)."""
    if alpha_bar >= 1.0:
        return known
    z = torch.randn(known.shape, generator=generator, device=known.device, dtype=known.dtype)
    return forward_noise(known, alpha_bar, z)


def guided(model: Denoiser, noise, known, mask, schedule: Schedule, generator, callback: Callback,
           lambdas: torch.Tensor) -> torch.Tensor:
    """Interpolation guidance (paper eqs. 20-21): after each reverse step, in the known region
    x = (1 - lambda_i) x_known + lambda_i x_model; the generated region is x_model."""
    if len(lambdas) != len(schedule):
        raise ValueError(f"need one lambda per step: {len(lambdas)} for {len(schedule)} steps")
    x = start(noise, known, mask, schedule)
    for i, n in enumerate(reversed(range(len(schedule)))):
        x_model = reverse_step(model, x, schedule, n, generator)
        x_known = noised_known(known, schedule.alpha_bar_after(n), generator)
        lam = float(lambdas[i])
        x = mask * ((1.0 - lam) * x_known + lam * x_model) + (1.0 - mask) * x_model
        if callback is not None:
            callback({"i": i, "n": n, "x": x})
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

    ``lambdas`` [S] defaults to :func:`extend.schedules.lambda_schedule`: the known audio
    dominates early, and the model's own estimate takes over late (lambda = 1 at the end).
    """
    lam = lambda_schedule(len(schedule)) if lambdas is None else lambdas
    return guided(model, noise, known, mask, schedule, generator, callback, lam)


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
    ``jump_length`` None: :func:`extend.schedules.default_jump_length` (10 from 50 steps up).
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
        x_model = reverse_step(model, x, schedule, n, generator)
        x_known = noised_known(known, schedule.alpha_bar_after(n), generator)
        x = mask * x_known + (1.0 - mask) * x_model
        if callback is not None:
            callback({"i": i, "n": n, "x": x})
        i += 1
    return x


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
        x = mask * known + (1.0 - mask) * step_from_eps(x, model(x_in, t), schedule, n, generator)
        if callback is not None:
            callback({"i": i, "n": n, "x": x})
    return x
