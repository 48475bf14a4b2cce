"""Noise schedules as data.

A :class:`Schedule` of S steps holds, for step index n = 0..S-1 (n = S-1 is the noisiest):
``betas[n]``, ``alphas[n] = 1 - betas[n]``, ``alpha_bars[n] = prod_{k<=n} alphas[k]`` and
``model_steps[n]``, the (possibly fractional) training step fed to the network.

Reverse step n maps x at noise level ``alpha_bars[n]`` to level ``alpha_bars[n-1]`` (clean at n=0):

    x_{n-1} = (x_n - beta_n / sqrt(1 - abar_n) * eps) / sqrt(alpha_n) + sigma_n z     (DDPM eq. 11)
    sigma_n^2 = beta_n (1 - abar_{n-1}) / (1 - abar_n),  sigma_0 = 0

Fast schedules align each inference step to a fractional training step (DiffWave app. B):
find t with abar_train[t+1] <= abar_inf[s] <= abar_train[t], then
T_s = t + (sqrt(abar_t) - sqrt(abar_inf_s)) / (sqrt(abar_t) - sqrt(abar_{t+1})).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from .config import ModelConfig


@dataclass(frozen=True)
class Schedule:
    betas: torch.Tensor  # [S] float64
    model_steps: torch.Tensor  # [S] float64, training step fed to the network

    @property
    def alphas(self) -> torch.Tensor:
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        return torch.cumprod(self.alphas, dim=0)

    def __len__(self) -> int:
        return int(self.betas.shape[0])

    def alpha_bar_after(self, n: int) -> float:
        """Noise level reached by reverse step n: abar_{n-1}, or 1.0 (clean) for n = 0."""
        return 1.0 if n == 0 else float(self.alpha_bars[n - 1])

    def lowest(self, k: int) -> "Schedule":
        """The k least noisy steps (levels alpha_bars[:k]): a reverse process over them starts at
        level alpha_bars[k-1] instead of pure noise, as SDEdit (Meng et al. 2022) does from a guess."""
        if not 1 <= k <= len(self):
            raise ValueError(f"k must be between 1 and {len(self)}, got {k}")
        return Schedule(betas=self.betas[:k], model_steps=self.model_steps[:k])

    def sigma(self, n: int) -> float:
        """Posterior std of reverse step n (beta-tilde), 0 at the last step."""
        if n == 0:
            return 0.0
        abar = self.alpha_bars
        return float((self.betas[n] * (1 - abar[n - 1]) / (1 - abar[n])).sqrt())


def training_betas(config: ModelConfig) -> torch.Tensor:
    """Beta schedule [T]: linear from beta_start to beta_end (DDPM), rescaled when the config asks.

    With ``config.terminal_alpha_bar`` = a, sqrt(abar_t) is mapped affinely so that abar_0 is
    unchanged and abar_T = a (Lin et al. 2024, alg. 1, with a floor a instead of 0):
        sqrt(abar'_t) = sqrt(a) + (sqrt(abar_t) - sqrt(abar_T)) (sqrt(abar_0) - sqrt(a)) / (sqrt(abar_0) - sqrt(abar_T))
    and beta'_t = 1 - abar'_t / abar'_{t-1}.
    """
    betas = torch.linspace(config.beta_start, config.beta_end, config.num_steps, dtype=torch.float64)
    target = config.terminal_alpha_bar
    if target is None:
        return betas
    root = torch.cumprod(1.0 - betas, 0).sqrt()
    first, last = root[0], root[-1]
    root = target**0.5 + (root - last) * (first - target**0.5) / (first - last)
    abar = root.square()
    return 1.0 - abar / torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])


def training_schedule(config: ModelConfig) -> Schedule:
    betas = training_betas(config)
    return Schedule(betas=betas, model_steps=torch.arange(len(betas), dtype=torch.float64))


def align_steps(train_alpha_bars: torch.Tensor, inference_alpha_bars: torch.Tensor) -> torch.Tensor:
    """Fractional training step [S] for each inference noise level (formula in module doc)."""
    ta = train_alpha_bars.to(torch.float64)
    out = []
    for abar in inference_alpha_bars.to(torch.float64).tolist():
        if abar >= float(ta[0]):
            out.append(0.0)
            continue
        if abar <= float(ta[-1]):
            out.append(float(len(ta) - 1))
            continue
        # first t with ta[t+1] <= abar <= ta[t]; ta is strictly decreasing
        t = int(torch.searchsorted(-ta, torch.tensor(-abar, dtype=torch.float64), right=True)) - 1
        t = min(max(t, 0), len(ta) - 2)
        hi, lo = ta[t].sqrt(), ta[t + 1].sqrt()
        out.append(t + float((hi - abar**0.5) / (hi - lo)))
    return torch.tensor(out, dtype=torch.float64)


def fast_schedule(config: ModelConfig, inference_betas: Sequence[float]) -> Schedule:
    """Schedule from an explicit short beta list, aligned to the training schedule."""
    betas = torch.as_tensor(list(inference_betas), dtype=torch.float64)
    if betas.ndim != 1 or len(betas) < 1 or not bool(((betas > 0) & (betas < 1)).all()):
        raise ValueError("inference betas must be a non-empty list of values in (0, 1)")
    train_abar = training_schedule(config).alpha_bars
    return Schedule(betas=betas, model_steps=align_steps(train_abar, torch.cumprod(1.0 - betas, 0)))


def respaced_schedule(config: ModelConfig, steps: int) -> Schedule:
    """S-step schedule whose noise levels are the training levels at S evenly spaced steps.

    It spans the same range as training (first and last level included), so x_S has the same
    distribution as x_T; each step aligns to an integer training step.
    """
    if not 1 <= steps <= config.num_steps:
        raise ValueError(f"steps must be between 1 and {config.num_steps}, got {steps}")
    if steps == config.num_steps:
        return training_schedule(config)
    train_abar = training_schedule(config).alpha_bars
    # from the top level down, so that a single step still starts at x_T
    idx = torch.linspace(config.num_steps - 1, 0, steps, dtype=torch.float64).round().long().flip(0)
    abar = train_abar[idx]
    prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    betas = 1.0 - abar / prev
    return Schedule(betas=betas, model_steps=align_steps(train_abar, abar))


def make_schedule(config: ModelConfig, steps: int | None = None) -> Schedule:
    """The full training schedule (steps None or T) or an S-step respaced fast schedule."""
    if steps is None:
        return training_schedule(config)
    return respaced_schedule(config, steps)
