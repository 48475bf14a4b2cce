"""Unconditional DiffWave: model, schedules, safe checkpoints, training."""

from .checkpoint import load_model, save_model
from .config import ModelConfig
from .model import DiffWave
from .schedule import Schedule, fast_schedule, make_schedule, training_schedule

__all__ = ["DiffWave", "ModelConfig", "Schedule", "fast_schedule", "load_model", "make_schedule", "save_model", "training_schedule"]
