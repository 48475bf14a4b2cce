"""Deprecated: the λ curve and RePaint's path moved to :mod:`extend.samplers.schedules`."""

import warnings

from .samplers.schedules import count_reverse_moves, default_jump_length, lambda_schedule, repaint_schedule

warnings.warn("extend.schedules is deprecated; import from extend.samplers.schedules", DeprecationWarning, stacklevel=2)

__all__ = ["count_reverse_moves", "default_jump_length", "lambda_schedule", "repaint_schedule"]
