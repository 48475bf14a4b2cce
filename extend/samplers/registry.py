"""The sampler registry: one shared signature, per-sampler knob checks and model requirements."""

from __future__ import annotations

import inspect
from typing import Callable, Optional

import torch

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


def usable(config) -> list[str]:
    """Names of the registered samplers that a model with ``config`` can run, sorted."""
    return [name for name in sorted(SAMPLERS) if name not in REQUIRES or getattr(config, REQUIRES[name], False)]
