"""Model configuration: a frozen dataclass saved inside every checkpoint."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

PARAMETERIZATIONS = ("eps", "v")


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
    # What the network's last layer predicts: "eps" (DDPM) or "v" = sqrt(abar) eps - sqrt(1-abar) x0
    # (Salimans & Ho 2022, eq. 5). DiffWave.forward returns eps either way, so samplers are unchanged.
    parameterization: str = "eps"
    # Audio is multiplied by this before diffusion and divided after: it sets the signal level
    # against the noise schedule (piano at -20 dBFS RMS sits below 0 dB SNR for most steps at 1.0).
    data_scale: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "sample_rate": self.sample_rate >= 1000,
            "residual_channels": self.residual_channels >= 1,
            "residual_layers": self.residual_layers >= 1,
            "dilation_cycle": self.dilation_cycle >= 1,
            "num_steps": self.num_steps >= 2,
            "beta_start": 0.0 < self.beta_start < 1.0,
            "beta_end": self.beta_start <= self.beta_end < 1.0,
            "parameterization": self.parameterization in PARAMETERIZATIONS,
            "data_scale": isinstance(self.data_scale, (int, float)) and 0.0 < self.data_scale <= 100.0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid model config value for {bad[0]}: {getattr(self, bad[0])!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        data = json.loads(text)  # fields missing from older checkpoints take their defaults (old meaning)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config field {unknown[0]!r}")
        return cls(**data)
