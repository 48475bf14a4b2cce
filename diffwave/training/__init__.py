"""Training: the loop, the run state (memory and disk), data and shards, level maps, the run log,
and the piano corpus. The model core (model, config, schedule, sampling, checkpoint) never
imports from here."""

from .config import TrainConfig
from .loop import train
from .state import ema_model, export, load_state

__all__ = ["TrainConfig", "ema_model", "export", "load_state", "train"]
