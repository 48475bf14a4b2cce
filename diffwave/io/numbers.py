"""Values a caller passes (durations, rates, counts): numpy scalars accepted, bools refused."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import UserError


def is_number(value) -> bool:
    """A real number (Python or numpy scalar), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_integer(value) -> bool:
    """An integer (Python or numpy scalar), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def duration_ok(seconds: float, limit: float = 3600.0, name: str = "--seconds", rate: int | None = None) -> float:
    """Validate a positive, finite duration up to ``limit`` seconds; with ``rate``, at least one sample."""
    if not is_number(seconds) or not math.isfinite(seconds) or seconds <= 0 or seconds > limit:
        raise UserError(f"{name} must be a number in (0, {limit:g}], got {seconds}")
    if rate is not None and round(float(seconds) * rate) < 1:
        raise UserError(f"{name} {float(seconds):g} is shorter than one sample at {rate} Hz")
    return float(seconds)


def rate_ok(rate, name: str = "sample_rate") -> int:
    """A sample rate given by a caller: a whole number (16000, np.int64(16000), 16000.0); range checks come later."""
    if not (is_number(rate) and math.isfinite(rate) and float(rate).is_integer()):
        raise UserError(f"{name} must be an integer number of Hz, got {rate!r}")
    return int(rate)
