"""Autoregressive audio extension with DiffWave and pluggable inpainting samplers."""

from .api import Extender
from .samplers import SAMPLERS, get_sampler, register
from .schedules import lambda_schedule, repaint_schedule

__all__ = ["Extender", "SAMPLERS", "get_sampler", "lambda_schedule", "register", "repaint_schedule"]
