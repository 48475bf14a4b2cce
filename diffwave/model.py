"""Unconditional DiffWave (Kong et al., 2021), key-compatible with the reference code.

Shapes: audio is [B, L] (batch, samples); hidden activations are [B, C, L].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .schedule import training_schedule
from .spectral import WHOLE_WINDOW, interpolate_sqrt_alpha_bar, spectral_prior

EMBED_DIM = 128  # sin/cos table width (64 frequencies x 2)
HIDDEN_DIM = 512


def step_embedding_table(num_steps: int) -> torch.Tensor:
    """Sinusoidal table [T, 128]: row t = [sin(t * 10^(4j/63)), cos(...)], j = 0..63."""
    steps = torch.arange(num_steps, dtype=torch.float32).unsqueeze(1)  # [T, 1]
    dims = torch.arange(64, dtype=torch.float32).unsqueeze(0)  # [1, 64]
    table = steps * 10.0 ** (dims * 4.0 / 63.0)  # [T, 64]
    return torch.cat([torch.sin(table), torch.cos(table)], dim=1)


class DiffusionEmbedding(nn.Module):
    """Step embedding: table lookup (linearly interpolated for fractional t) then a 2-layer MLP."""

    def __init__(self, num_steps: int):
        super().__init__()
        self.register_buffer("embedding", step_embedding_table(num_steps), persistent=False)
        self.projection1 = nn.Linear(EMBED_DIM, HIDDEN_DIM)
        self.projection2 = nn.Linear(HIDDEN_DIM, HIDDEN_DIM)

    def lookup(self, t: torch.Tensor) -> torch.Tensor:
        """t [B] int or float in [0, T-1] -> [B, 128]; fractional t interpolates rows."""
        if not torch.is_floating_point(t):
            return self.embedding[t]
        low = torch.floor(t).long().clamp(0, self.embedding.shape[0] - 1)
        high = torch.ceil(t).long().clamp(0, self.embedding.shape[0] - 1)
        frac = (t - low.to(t.dtype)).unsqueeze(-1).to(self.embedding.dtype)
        return self.embedding[low] + frac * (self.embedding[high] - self.embedding[low])

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        x = self.lookup(t)
        x = F.silu(self.projection1(x))
        return F.silu(self.projection2(x))  # [B, 512]


def _conv1d(*args, **kwargs) -> nn.Conv1d:
    conv = nn.Conv1d(*args, **kwargs)
    nn.init.kaiming_normal_(conv.weight)
    return conv


class ResidualBlock(nn.Module):
    """Gated dilated conv block; returns ((x + residual) / sqrt(2), skip), both [B, C, L]."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.dilated_conv = _conv1d(channels, 2 * channels, 3, padding=dilation, dilation=dilation)
        self.diffusion_projection = nn.Linear(HIDDEN_DIM, channels)
        self.output_projection = _conv1d(channels, 2 * channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor,
                onehot: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``emb`` [B, 512] (one level per row), or [U, 512] per distinct level with ``onehot``
        [B, U, L] marking each sample's level (a level map)."""
        bias = self.diffusion_projection(emb)  # [B, C] or [U, C]
        # a level map spreads U biases over L samples as a matmul: a gather's backward is a slow scatter
        y = x + (bias.unsqueeze(-1) if onehot is None else torch.matmul(bias.t().to(onehot.dtype), onehot))
        gate, filt = torch.chunk(self.dilated_conv(y), 2, dim=1)
        y = self.output_projection(torch.sigmoid(gate) * torch.tanh(filt))
        residual, skip = torch.chunk(y, 2, dim=1)
        return (x + residual) / math.sqrt(2.0), skip


class DiffWave(nn.Module):
    """Denoiser: forward(x_t [B, L], t [B] or [B, L]) -> eps estimate [B, L], whatever the parameterization.

    ``t`` [B] is one noise level per row (DDPM). ``t`` [B, L] is a level per sample, for models
    trained with ``config.mixed_levels`` (diffusion forcing, Chen et al. 2024): each distinct
    level gets its step embedding once, and every sample adds its own level's projection.

    With ``config.parameterization == "v"`` the last layer predicts v = sqrt(abar) eps -
    sqrt(1 - abar) x0 and forward converts it: eps = sqrt(abar) v + sqrt(1 - abar) x_t
    (Salimans & Ho 2022, eq. 5 rearranged). ``abar`` at a fractional t interpolates sqrt(abar)
    linearly between training steps, as the fast-schedule alignment does.

    With ``config.spectral_prior`` the network reads [x_t, x0_hat] (2 input channels) and its
    raw output is added to the prior's in the same parameterization, where x0_hat is power
    spectral subtraction over the whole input row (:func:`diffwave.spectral.spectral_prior`).
    The whole row is then what one pass sees: ``receptive_field`` is unbounded, and the engine
    hands the model its whole frame.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config.residual_channels
        self.input_projection = _conv1d(self.input_channels(config), c, 1)
        self.diffusion_embedding = DiffusionEmbedding(config.num_steps)
        self.residual_layers = nn.ModuleList(
            ResidualBlock(c, self.dilation(i)) for i in range(config.residual_layers)
        )
        self.skip_projection = _conv1d(c, c, 1)
        self.output_projection = _conv1d(c, 1, 1)
        nn.init.zeros_(self.output_projection.weight)
        sqrt_abar = training_schedule(config).alpha_bars.sqrt().float()
        self.register_buffer("sqrt_alpha_bar", sqrt_abar, persistent=False)  # [T]

    @staticmethod
    def input_channels(config: ModelConfig) -> int:
        """x_t, and with the spectral prior its clean estimate."""
        return 2 if config.spectral_prior else 1

    @staticmethod
    def weight_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every weight for ``config``, computed without building anything
        (the loader checks a file against it before allocating a network)."""
        c = config.residual_channels
        shapes = {"input_projection.weight": (c, DiffWave.input_channels(config), 1), "input_projection.bias": (c,),
                  "diffusion_embedding.projection1.weight": (HIDDEN_DIM, EMBED_DIM),
                  "diffusion_embedding.projection1.bias": (HIDDEN_DIM,),
                  "diffusion_embedding.projection2.weight": (HIDDEN_DIM, HIDDEN_DIM),
                  "diffusion_embedding.projection2.bias": (HIDDEN_DIM,)}
        for i in range(config.residual_layers):
            p = f"residual_layers.{i}."
            shapes.update({p + "dilated_conv.weight": (2 * c, c, 3), p + "dilated_conv.bias": (2 * c,),
                           p + "diffusion_projection.weight": (c, HIDDEN_DIM), p + "diffusion_projection.bias": (c,),
                           p + "output_projection.weight": (2 * c, c, 1), p + "output_projection.bias": (2 * c,)})
        shapes.update({"skip_projection.weight": (c, c, 1), "skip_projection.bias": (c,),
                       "output_projection.weight": (1, c, 1), "output_projection.bias": (1,)})
        return shapes

    def dilation(self, layer: int) -> int:
        return 2 ** (layer % self.config.dilation_cycle)

    @property
    def conv_receptive_field(self) -> int:
        """Input samples the convolutions let influence one output sample: 1 + sum_i 2 * dilation_i."""
        return 1 + sum(2 * self.dilation(i) for i in range(self.config.residual_layers))

    @property
    def receptive_field(self) -> int:
        """Input samples that can influence one output sample: the convolutions' reach, or
        unbounded (10^9, the whole input) with the spectral prior."""
        return WHOLE_WINDOW if self.config.spectral_prior else self.conv_receptive_field

    @property
    def receptive_radius(self) -> int:
        """Samples on each side of an output that it can see: (receptive_field - 1) / 2."""
        return (self.receptive_field - 1) // 2

    def sqrt_alpha_bar_at(self, t: torch.Tensor) -> torch.Tensor:
        """sqrt(abar_t), shaped like t, for integer or fractional training steps t."""
        return interpolate_sqrt_alpha_bar(self.sqrt_alpha_bar, t)

    def forward(self, audio: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.network(audio, t)
        if self.config.parameterization == "eps":
            return out
        a = self.sqrt_alpha_bar_at(t)
        a = a.unsqueeze(1) if a.dim() == 1 else a  # [B, 1] or [B, L]
        return a * out.float() + (1.0 - a * a).sqrt() * audio

    def network(self, audio: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The raw network output [B, L] in the config's parameterization."""
        prior = None
        if self.config.spectral_prior:
            if t.dim() != 1:
                raise ValueError("a spectral-prior model takes one level per row: t [B]")
            x0, prior = spectral_prior(audio, self.sqrt_alpha_bar_at(t), self.config.parameterization,
                                       self.config.spectral_zero_pad, self.config.spectral_block)
            inputs = torch.stack([audio, x0.to(audio.dtype)], dim=1)  # [B, 2, L]
        else:
            inputs = audio.unsqueeze(1)  # [B, 1, L]
        x = F.relu(self.input_projection(inputs))  # [B, C, L]
        onehot = None
        if t.dim() == 2:  # a level map: embed each distinct level once
            t, index = torch.unique(t, return_inverse=True)  # [U], [B, L]
            onehot = F.one_hot(index, len(t)).transpose(1, 2).to(x.dtype)  # [B, U, L]
        emb = self.diffusion_embedding(t)  # [B or U, 512]
        skip = torch.zeros_like(x)
        for layer in self.residual_layers:
            x, s = layer(x, emb, onehot)
            skip = skip + s
        x = skip / math.sqrt(len(self.residual_layers))
        x = F.relu(self.skip_projection(x))
        out = self.output_projection(x).squeeze(1)  # [B, L]
        return out if prior is None else out.float() + prior
