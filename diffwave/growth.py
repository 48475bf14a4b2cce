"""Grow a trained DiffWave into a wider and deeper one that computes the same function.

Short GPU leases make capacity expensive to try from scratch: a C64 network starts at the loss a
C32 model left behind tens of thousands of steps ago. Growing keeps what the small model learned
and hands the new units to training (function-preserving growth, as in Net2Net, Chen et al. 2016,
with the "zero the outgoing weights" variant):

- every old unit keeps its weights, and reads no new unit (those weights are 0);
- every new unit is freshly initialized (the network's own init, drawn from a generator) and
  reads everything, so it computes something from the first step;
- a new unit's way into the old units and into the output is 0, and gradient descent opens it.

Added layers continue the dilation cycle, so layers L0..L1-1 extend the receptive field
(C32/L24, cycle 12: 1.02 s; L36: 1.54 s, the DiffWave paper's unconditional reach). The skip
sum is divided by sqrt(L) (:meth:`diffwave.model.DiffWave.network`); the skip projection's old
weights are multiplied by sqrt(L1 / L0) to undo the new divisor, and new layers add 0 to the old
skip channels.

Channel layout: hidden activations are [B, C, L]. Tensors of 2C rows (the dilated conv's
gate | filter, the block output's residual | skip) hold the old halves at rows [0, C0) and
[C1, C1 + C0).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from .checkpoint import build_model
from .config import ModelConfig
from .io.errors import UserError
from .model import DiffWave


def grown_config(config: ModelConfig, channels: int, layers: int) -> ModelConfig:
    """``config`` with C and L replaced; refuses to shrink (growth only adds units)."""
    if channels < config.residual_channels:
        raise UserError(f"--channels {channels} is below the model's {config.residual_channels}; growing only adds channels")
    if layers < config.residual_layers:
        raise UserError(f"--layers {layers} is below the model's {config.residual_layers}; growing only adds layers")
    try:
        return dataclasses.replace(config, residual_channels=channels, residual_layers=layers)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _fresh(name: str, shapes: dict[str, tuple[int, ...]], gen: torch.Generator) -> torch.Tensor:
    """A newly initialized tensor, drawn as :class:`DiffWave` initializes ``name``: conv weights
    Kaiming-normal (std sqrt(2 / fan_in)), linear weights and all biases U(+-1/sqrt(fan_in)),
    the output layer's weight 0."""
    shape = shapes[name]
    if name == "output_projection.weight":
        return torch.zeros(shape)
    fan_in = math.prod(shapes[name.rsplit(".", 1)[0] + ".weight"][1:])
    if name.endswith("weight") and "diffusion_projection" not in name:
        return torch.randn(shape, generator=gen) * math.sqrt(2.0 / fan_in)
    return (torch.rand(shape, generator=gen) * 2 - 1) / math.sqrt(fan_in)


def grow(model: DiffWave, channels: int, layers: int, generator: torch.Generator) -> DiffWave:
    """A DiffWave with ``channels`` x ``layers`` whose output equals ``model``'s for every input.

    Equal up to float rounding: the old units' sums gain terms that are exactly 0. New weights
    come from ``generator`` only; the process RNG is not touched. Returns an eval-mode model.
    """
    old_cfg = model.config
    cfg = grown_config(old_cfg, channels, layers)
    c0, c1, l0, l1 = old_cfg.residual_channels, channels, old_cfg.residual_layers, layers
    plain = torch.arange(c0)
    paired = torch.cat([plain, c1 + plain])  # the old halves of a 2C-row tensor
    rows_of = {"input_projection": plain, "dilated_conv": paired, "diffusion_projection": plain,
               "output_projection": paired, "skip_projection": plain}
    old = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    shapes = DiffWave.weight_shapes(cfg)
    state: dict[str, torch.Tensor] = {}
    for name in shapes:
        if name.startswith("diffusion_embedding.") or name == "output_projection.bias":
            state[name] = old[name].clone()  # shapes do not depend on C or L
            continue
        fresh = state[name] = _fresh(name, shapes, generator)
        if name.startswith("residual_layers."):
            index = int(name.split(".")[1])
            if index >= l0:  # an added layer: it must add 0 to the old skip channels
                if ".output_projection." in name:
                    fresh[c1 + plain] = 0.0
                continue
        if name == "output_projection.weight":  # [1, C, 1]: old columns, new ones 0
            fresh[:, :c0] = old[name]
            continue
        kind = name.split(".")[-2]
        rows = rows_of[kind]
        value = old[name]
        if name == "skip_projection.weight":
            value = value * math.sqrt(l1 / l0)  # undo the skip sum's new 1/sqrt(L1)
        if value.dim() == 1 or kind in ("input_projection", "diffusion_projection"):
            fresh[rows] = value  # biases; and weights whose inputs (audio, the step embedding) do not grow
        else:
            fresh[rows] = 0.0  # old units read no new unit
            fresh[rows[:, None], plain] = value
    return build_model(cfg, state)


def add_spectral_prior(model: DiffWave) -> DiffWave:
    """``model`` with ``config.spectral_prior`` on, computing exactly the prior to start with.

    Not function-preserving, by design: the output layer is zeroed, so the model's prediction
    is the spectral prior's (:func:`diffwave.spectral.spectral_prior`), which on the reference
    piano clips denoises within 0.5 dB of the bundled model at t = 100-150 (1.7 dB short at
    t = 20) and beats it on tones (docs/spectral-prior.md). The trunk keeps its
    trained weights as features for the correction that training learns; the input layer's new
    column (the prior's clean estimate) starts at 0, so the trunk computes what it did.
    input_projection.weight goes [C, 1, 1] -> [C, 2, 1]. Returns an eval-mode model."""
    if model.config.spectral_prior:
        raise UserError("the model already has the spectral prior")
    try:
        cfg = dataclasses.replace(model.config, spectral_prior=True)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    state = _weights(model)
    weight = state["input_projection.weight"]  # [C, 1, 1]
    state["input_projection.weight"] = torch.cat([weight, torch.zeros_like(weight)], dim=1)  # [C, 2, 1]
    state["output_projection.weight"].zero_()
    state["output_projection.bias"].zero_()
    return build_model(cfg, state)


def change_prior(model: DiffWave, **fields: object) -> DiffWave:
    """``model`` with its prior's config ``fields`` changed (``spectral_zero_pad``: the filter
    stops wrapping the window's end onto its start; ``spectral_block``: it runs per STFT block,
    :mod:`diffwave.spectral`) and the same weights. The network was trained on the old prior's
    estimate, so it is a different model; the continuation yardstick says whether it is a
    better one. Returns an eval-mode model."""
    if not model.config.spectral_prior:
        raise UserError("that is an option of the spectral prior, which this model lacks (add it with --spectral-prior)")
    try:
        cfg = dataclasses.replace(model.config, **fields)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return build_model(cfg, _weights(model))


def _weights(model: DiffWave) -> dict[str, torch.Tensor]:
    """A float32 CPU copy of ``model``'s state dict, free to edit."""
    return {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()}
