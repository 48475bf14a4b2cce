"""Model configuration: a frozen dataclass saved inside every checkpoint."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a DiffWave network and its training schedule.

    Defaults are the paper's unconditional setting (T=200, linear beta 1e-4..0.02)
    with the reference C64/L30 network, at 16 kHz.
    """

    sample_rate: int = 16000
    residual_channels: int = 64
    residual_layers: int = 30
    dilation_cycle: int = 10
    num_steps: int = 200  # T, training diffusion steps
    beta_start: float = 1e-4
    beta_end: float = 0.02

    def __post_init__(self) -> None:
        checks = {
            "sample_rate": self.sample_rate >= 1000,
            "residual_channels": self.residual_channels >= 1,
            "residual_layers": self.residual_layers >= 1,
            "dilation_cycle": self.dilation_cycle >= 1,
            "num_steps": self.num_steps >= 2,
            "beta_start": 0.0 < self.beta_start < 1.0,
            "beta_end": self.beta_start <= self.beta_end < 1.0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid model config value for {bad[0]}: {getattr(self, bad[0])!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config field {unknown[0]!r}")
        return cls(**data)
