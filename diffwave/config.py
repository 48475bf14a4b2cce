"""Model configuration: a frozen dataclass saved inside every checkpoint."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

PARAMETERIZATIONS = ("eps", "v")
# What a model this project runs may be: anything outside is refused before a network is built
# (C512/L64 is 170 M parameters; dilation 2^15 and T = 4000 are far beyond any useful model).
LIMITS = {
    "sample_rate": (int, 1000, 192_000),
    "residual_channels": (int, 1, 512),
    "residual_layers": (int, 1, 64),
    "dilation_cycle": (int, 1, 16),
    "num_steps": (int, 2, 4000),
    "beta_start": (float, 1e-8, 0.999),
    "beta_end": (float, 1e-8, 0.999),
    "data_scale": (float, 1e-3, 100.0),
}


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
    # Trained with mixed noise levels in one window (diffusion forcing, Chen et al. 2024): the
    # network takes a per-sample level map t [B, L], so a sampler may hand it clean context
    # beside a noisy continuation. With one level everywhere it is an ordinary model.
    mixed_levels: bool = False
    # None: the plain linear beta schedule, whose last level abar_T (0.13 at T=200, beta_end 0.02)
    # leaves the audio visible, so a network learns to find it in x_T, while sampling starts from
    # pure noise and the network then predicts near-silence. A value: the schedule rescaled so
    # that abar_T equals it (Lin et al. 2024, "Common diffusion noise schedules and sample steps
    # are flawed", alg. 1). Near 0 makes x_T pure noise; it stays above 0 because the samplers
    # work in eps, and eps carries nothing about x0 at abar = 0.
    terminal_alpha_bar: float | None = None
    # True: the network's output is a correction added to power spectral subtraction over the
    # whole window it is given (diffwave.spectral), whose clean estimate is also its second input
    # channel. The window, not the convolutions, then bounds what one pass sees.
    spectral_prior: bool = False
    # With spectral_prior: False (every prior model before 2026-12-07), the prior's FFT spans
    # exactly the row, so its filter is circular and the row's end borders its start (in the
    # engine's frame: the new audio's end borders the oldest context). True: the row is zero-
    # padded to twice its length first, so the filter is a linear one and nothing wraps.
    spectral_zero_pad: bool = False
    # With spectral_prior: 0 (every prior model before this field, 2026-12-07) is the filter over
    # the whole window; N is the same filter per STFT block of N samples (hop N / 4), so it
    # follows a note's decay instead of averaging it over the window. Its frames do not wrap.
    spectral_block: int = 0

    def __post_init__(self) -> None:
        for name, (kind, low, high) in LIMITS.items():
            value = getattr(self, name)
            if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"model config {name} must be an integer, got {value!r}")
            if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)):
                raise ValueError(f"model config {name} must be a finite number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"model config {name} must be in [{low:g}, {high:g}], got {value!r}")
        if not self.beta_start <= self.beta_end:
            raise ValueError(f"model config beta_end ({self.beta_end}) must not be below beta_start ({self.beta_start})")
        if self.terminal_alpha_bar is not None:
            value = self.terminal_alpha_bar
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 1e-6:
                raise ValueError(f"model config terminal_alpha_bar must be null or at least 1e-06, got {value!r}")
            plain = math.prod(1.0 - (self.beta_start + (self.beta_end - self.beta_start) * k / max(self.num_steps - 1, 1))
                              for k in range(self.num_steps))
            if not value < plain:
                raise ValueError(f"model config terminal_alpha_bar must be below the plain schedule's abar_T "
                                 f"({plain:.4g}), got {value!r}")
        if not isinstance(self.mixed_levels, bool):
            raise ValueError(f"model config mixed_levels must be true or false, got {self.mixed_levels!r}")
        if not isinstance(self.spectral_prior, bool):
            raise ValueError(f"model config spectral_prior must be true or false, got {self.spectral_prior!r}")
        if not isinstance(self.spectral_zero_pad, bool):
            raise ValueError(f"model config spectral_zero_pad must be true or false, got {self.spectral_zero_pad!r}")
        if self.spectral_zero_pad and not self.spectral_prior:
            raise ValueError("model config spectral_zero_pad is an option of spectral_prior, which is off")
        block = self.spectral_block
        if isinstance(block, bool) or not isinstance(block, int) or not (block == 0 or 64 <= block <= 2**16):
            raise ValueError(f"model config spectral_block must be 0 or an integer in [64, 65536], got {block!r}")
        if block and not self.spectral_prior:
            raise ValueError("model config spectral_block is an option of spectral_prior, which is off")
        if block and self.spectral_zero_pad:
            raise ValueError("model config spectral_block and spectral_zero_pad exclude each other (a block "
                             "filter does not wrap)")
        if self.spectral_prior and self.mixed_levels:
            raise ValueError("model config spectral_prior needs one noise level per window; it cannot be combined "
                             "with mixed_levels")
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"model config parameterization must be one of {', '.join(PARAMETERIZATIONS)}, "
                             f"got {self.parameterization!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        data = json.loads(text)  # fields missing from older checkpoints take their defaults (old meaning)
        if not isinstance(data, dict):
            raise ValueError("model config is not a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config field {unknown[0]!r}")
        return cls(**data)
