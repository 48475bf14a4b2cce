"""Deprecated: training moved to :mod:`diffwave.training`; this name keeps old imports working."""

import warnings

from .training import TrainConfig, ema_model, export, load_state, train

warnings.warn("diffwave.train is deprecated; import from diffwave.training", DeprecationWarning, stacklevel=2)

__all__ = ["TrainConfig", "ema_model", "export", "load_state", "train"]
