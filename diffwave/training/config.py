"""Training options: a frozen dataclass saved in every run state (``train`` metadata)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..io.errors import UserError
from ..model import DiffWave

OBJECTIVES = ("eps", "v", "x0")


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 8
    crop_seconds: float = 0.0  # 0 = twice the receptive field, at least 0.5 s
    learning_rate: float = 2e-4
    loss: str = "l1"
    objective: str = "eps"  # eps, v or x0: where the loss is measured (module doc)
    max_steps: int = 100_000
    save_every: int = 500
    log_every: int = 10
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    seed: int = 0
    # Fast path for GPUs: the data lives on the training device, crops, levels and noise are drawn
    # there, Adam is fused, and the loss is read back only every log_every steps.
    device_data: bool = False
    init: str = ""  # model file whose weights start a new run (fine-tuning); "" = random init
    mixed_fraction: float = 0.5  # share of rows with mixed levels, for config.mixed_levels models (diffwave.levels)
    # Learning rate ramped linearly over the run's first steps: Adam's first updates move every weight
    # by about the learning rate whatever its gradient, which jolts a grown or fine-tuned model.
    warmup_steps: int = 0
    # Training levels t drawn uniformly from [level_low, level_high) instead of [0, T) (level_high 0 = T):
    # a run that spends every step on a band of noise levels, to ask what that band alone can learn.
    level_low: int = 0
    level_high: int = 0

    def __post_init__(self) -> None:
        if self.loss not in ("l1", "l2"):
            raise UserError(f"--loss must be l1 or l2, got {self.loss!r}")
        if self.objective not in OBJECTIVES:
            raise UserError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        for name in ("batch_size", "max_steps", "save_every", "log_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1")
        if self.warmup_steps < 0:
            raise UserError(f"--warmup-steps must be 0 or more, got {self.warmup_steps}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise UserError("--learning-rate must be a positive number")
        if not 0.0 <= self.mixed_fraction <= 1.0:
            raise UserError(f"--mixed-fraction must be in [0, 1], got {self.mixed_fraction}")
        if not math.isfinite(self.crop_seconds) or self.crop_seconds < 0:
            raise UserError("--crop-seconds must be a non-negative number")
        if self.level_low < 0 or self.level_high < 0 or (self.level_high and self.level_low >= self.level_high):
            raise UserError(f"--levels must be LOW-HIGH with 0 <= LOW < HIGH, got {self.level_low}-{self.level_high}")

    def levels(self, num_steps: int) -> tuple[int, int]:
        """The training levels [low, high) for a schedule of ``num_steps``; UserError past its end."""
        high = self.level_high or num_steps
        if high > num_steps or self.level_low >= high:
            raise UserError(f"--levels {self.level_low}-{high} is outside the schedule's 0-{num_steps}")
        return self.level_low, high

    def crop_samples(self, model: DiffWave) -> int:
        if self.crop_seconds > 0:
            crop = int(round(self.crop_seconds * model.config.sample_rate))
            if crop < model.conv_receptive_field:
                raise UserError(f"--crop-seconds gives {crop} samples, less than the receptive field "
                                f"({model.conv_receptive_field})")
            return crop
        return max(2 * model.conv_receptive_field, model.config.sample_rate // 2)
