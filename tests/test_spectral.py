"""The spectral prior: a DiffWave that learns a correction to spectral subtraction over its whole window."""

import dataclasses

import numpy as np
import pytest
import torch

from benchmarks.classical import SpectralSubtraction
from benchmarks.continuation import steady_sine
from benchmarks.metrics import yin
from diffwave.checkpoint import load_model, save_model
from diffwave.cli import app
from diffwave.config import ModelConfig
from diffwave.growth import add_spectral_prior
from diffwave.io.cli_util import run_app
from diffwave.model import DiffWave
from diffwave.spectral import spectral_prior
from diffwave.training.config import TrainConfig
from diffwave.training.loop import train
from extend import Extender

from .conftest import TINY, tiny_model

RATE = 16000
V = dataclasses.replace(TINY, parameterization="v", data_scale=4.0)


def noisy(model: torch.nn.Module, t: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x_t [2, 4000] of a 300 Hz sine at the levels t, and the noise drawn."""
    g = torch.Generator().manual_seed(seed)
    rate = model.config.sample_rate
    x0 = 0.5 * torch.sin(2 * torch.pi * 300 * torch.arange(4000) / rate)[None].repeat(len(t), 1)
    root = model.sqrt_alpha_bar_at(t)[:, None]
    eps = torch.randn(x0.shape, generator=g)
    return root * x0 + (1 - root**2).sqrt() * eps, eps


@pytest.mark.parametrize("config", [TINY, V], ids=["eps", "v"])
def test_an_added_prior_starts_as_spectral_subtraction(config):
    """add_spectral_prior zeroes the output layer: in either parameterization the model's eps is the
    classical denoiser's, at integer and fractional levels; the trunk reads a new zero column."""
    model = add_spectral_prior(tiny_model(config=config))
    assert model.config.spectral_prior and model.input_projection.weight.shape[1] == 2
    assert torch.equal(model.input_projection.weight[:, 1], torch.zeros_like(model.input_projection.weight[:, 1]))
    classical = SpectralSubtraction(config)
    for t in (torch.tensor([3, 15]), torch.tensor([2.5, 17.25])):
        xt, _ = noisy(model, t)
        with torch.no_grad():
            assert torch.allclose(model(xt, t), classical(xt, t), atol=1e-4)


def test_the_prior_model_learns_a_correction_and_round_trips(wav_dir, tmp_path):
    """A run from scratch with the prior trains (the new input column gets gradient), its export
    reloads bit-exactly, and one pass sees the whole window; a level map is refused."""
    config = dataclasses.replace(V, spectral_prior=True)
    cfg = TrainConfig(batch_size=2, crop_seconds=0.25, max_steps=3, save_every=3, log_every=1, seed=0, loss="l2")
    losses = []
    train(wav_dir, tmp_path / "run", config, cfg, torch.device("cpu"), on_step=lambda s, loss, r: losses.append(loss))
    assert len(losses) == 3 and all(np.isfinite(losses))
    from diffwave.training.state import run_model

    model, _ = run_model(tmp_path / "run", "raw")
    assert model.input_projection.weight[:, 1].abs().sum() > 0
    save_model(tmp_path / "m.safetensors", model)
    back = load_model(tmp_path / "m.safetensors")
    t = torch.tensor([4, 12])
    xt, _ = noisy(model, t)
    with torch.no_grad():
        assert torch.equal(back(xt, t), model(xt, t))
    assert model.receptive_field >= 10**9 > model.conv_receptive_field == tiny_model().receptive_field
    with pytest.raises(ValueError, match="one level per row"):
        model(xt, t[:, None].expand(-1, xt.shape[1]))


def test_the_prior_is_off_in_old_configs_and_refuses_level_maps():
    """A config without the field (every older checkpoint) means no prior; with mixed levels it is refused."""
    old = TINY.to_json().replace(', "spectral_prior": false', "")
    assert "spectral_prior" not in old and ModelConfig.from_json(old).spectral_prior is False
    assert DiffWave.weight_shapes(TINY)["input_projection.weight"] == (4, 1, 1)
    with pytest.raises(ValueError, match="mixed_levels"):
        dataclasses.replace(TINY, spectral_prior=True, mixed_levels=True)
    with pytest.raises(ValueError, match="true or false"):
        dataclasses.replace(TINY, spectral_prior=1)


def test_prior_eps_and_v_describe_the_same_estimate():
    """eps and v from spectral_prior turn back into the same clean estimate (Salimans & Ho eq. 5)."""
    g = torch.Generator().manual_seed(2)
    xt, root = torch.randn(3, 2048, generator=g), torch.tensor([0.9, 0.3, 0.05])
    x0, eps = spectral_prior(xt, root, "eps")
    x0_v, v = spectral_prior(xt, root, "v")
    a, s = root[:, None], (1 - root[:, None] ** 2).sqrt()
    assert torch.equal(x0, x0_v)
    assert torch.allclose((xt - s * eps) / a, x0, atol=1e-3)
    assert torch.allclose(a * xt - s * v, x0, atol=1e-4)


def test_grow_adds_the_prior_from_the_cli(tmp_path, capsys):
    """`diffwave grow --spectral-prior` keeps C and L by default and writes a prior model; the
    engine then continues a steady sine with it (the prior finds the partial, the zero correction
    keeps it); adding it twice is one line and writes nothing."""
    config = ModelConfig(residual_channels=4, residual_layers=2, dilation_cycle=2, parameterization="v",
                         data_scale=4.0, terminal_alpha_bar=1e-4)
    parent, grown = tmp_path / "parent.safetensors", tmp_path / "grown.safetensors"
    save_model(parent, tiny_model(config=config))
    assert run_app(app, ["grow", str(parent), "--out", str(grown), "--spectral-prior"]) == 0
    assert "whole window" in capsys.readouterr().out
    model = load_model(grown)
    assert model.config == dataclasses.replace(config, spectral_prior=True)
    prompt = steady_sine(440.0, RATE, seconds=3.0, onset=0.0)
    out = Extender(model).extend(prompt, RATE, 0.5, sampler="lambda", steps=20, seed=0, context=2.0, new=0.5,
                                 precision="fp32")
    new = out[len(prompt):]
    assert np.sqrt(np.mean(new**2)) == pytest.approx(np.sqrt(np.mean(prompt**2)), rel=0.3)
    assert np.median(np.abs(1200 * np.log2(yin(new, RATE)[5:-5] / 440.0))) < 50
    again = tmp_path / "again.safetensors"
    assert run_app(app, ["grow", str(grown), "--out", str(again), "--spectral-prior"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already has the spectral prior" in err and not again.exists()
