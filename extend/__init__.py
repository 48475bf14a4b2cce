"""Autoregressive audio extension with DiffWave and pluggable inpainting samplers."""

from .api import Extender, check_sampler
from .files import extend_file
from .samplers import SAMPLERS, register
from .samplers.schedules import lambda_schedule, repaint_schedule

__all__ = ["Extender", "SAMPLERS", "check_sampler", "extend_file", "lambda_schedule", "register", "repaint_schedule"]
