"""Sampler schedules as data: the reverse lambda curve and the RePaint jump path."""

from __future__ import annotations

import math

import torch

PAPER_BASE = 0.3704 * math.e  # ~ 2 ** (1/100): the paper's eq. 19 constant
PAPER_STEPS = 200


def lambda_schedule(steps: int, exponent: float = 4.0, force_last: bool = True) -> torch.Tensor:
    """Reverse lambda for interpolation guidance (paper eq. 19, as in the authors' code). [S]

    Entry i is used for the i-th reverse step taken (i = 0 at t = T), with p = ``exponent``:
        lambda(i) = ((0.3704 e) ** (0.5 i) - 1) ** p    if steps == 200 (paper-exact)
        lambda(i) = (2 ** (i / steps) - 1) ** p         otherwise (T-agnostic form)
    The paper uses p = 4. With ``force_last`` the last entry is set to 1, so x_0 is the
    model's own sample, not a mix (it cannot change the generated region either way).
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    if not exponent > 0:
        raise ValueError(f"exponent must be positive, got {exponent}")
    i = torch.arange(steps, dtype=torch.float64)
    if steps == PAPER_STEPS:
        lam = (PAPER_BASE ** (0.5 * i) - 1.0) ** exponent
    else:
        lam = (2.0 ** (i / steps) - 1.0) ** exponent
    if force_last:
        lam[-1] = 1.0
    return lam


def default_jump_length(steps: int) -> int:
    """RePaint's jump length for an S-step schedule: the paper's j = 10, shrunk to S // 5 for
    short schedules so that a frame still has several jump points (j = 1 at S < 10)."""
    return min(10, max(1, steps // 5))


def repaint_schedule(steps: int, jump_length: int = 10, resample: int = 10) -> list[int]:
    """RePaint's path through noise levels (Lugmayr et al. 2022, Alg. 1 with jumps).

    Levels run from ``steps`` (x_T) down to 0 (x_0). Whenever the path first reaches a level
    1 + k*j (k = 0, 1, ... while the jump stays in range), it jumps back up j levels and
    comes down again, ``resample - 1`` times. Reverse moves: steps + (r-1) * j * jumps, which
    is T + (r-1)(T-j) = 1910 for T=200, j=10, r=10. Every move is +1 or -1 (checked).
    """
    if steps < 1 or jump_length < 1 or resample < 1:
        raise ValueError("steps, jump_length and resample must be positive")
    if resample > 1 and jump_length >= steps:
        raise ValueError(f"jump_length ({jump_length}) must be smaller than the step count ({steps})")
    remaining = {level: resample - 1 for level in range(1, steps - jump_length + 1, jump_length)}
    path = [steps]
    level = steps
    while level > 0:
        level -= 1
        path.append(level)
        if remaining.get(level, 0) > 0:  # re-noise j levels up; the loop walks down again
            remaining[level] -= 1
            for _ in range(jump_length):
                level += 1
                path.append(level)
    _check_path(path, steps)
    return path


def _check_path(path: list[int], steps: int) -> None:
    if path[0] != steps or path[-1] != 0:
        raise AssertionError("RePaint path must start at T and end at 0")
    for a, b in zip(path, path[1:]):
        if abs(a - b) != 1 or not 0 <= b <= steps:
            raise AssertionError(f"invalid RePaint move {a} -> {b}")


def count_reverse_moves(path: list[int]) -> int:
    """Network evaluations a path costs: one per downward move."""
    return sum(1 for a, b in zip(path, path[1:]) if b == a - 1)
