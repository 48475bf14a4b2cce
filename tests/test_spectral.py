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
from diffwave.spectral import block_subtraction_estimate, spectral_prior, subtraction_estimate
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


def test_zero_padding_stops_the_filter_wrapping_the_row_end_onto_its_start():
    """A tone burst at the row's start: the circular filter smears it onto the row's end (its
    neighbour on the circle), the zero-padded one does not, and both recover the burst itself."""
    n, sig2 = 4000, 1e-3
    k = torch.arange(n, dtype=torch.float64)
    burst = torch.zeros(n, dtype=torch.float64)
    burst[:200] = torch.hann_window(200, dtype=torch.float64) * torch.sin(2 * torch.pi * 0.05 * k[:200])
    y = (burst + sig2**0.5 * torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[None]
    wrapped, padded = subtraction_estimate(y, sig2)[0], subtraction_estimate(y, sig2, zero_pad=True)[0]
    assert padded[-200:].pow(2).mean() < 0.2 * wrapped[-200:].pow(2).mean()
    for est in (wrapped, padded):
        assert (est[:200] - burst[:200]).pow(2).mean() < 0.05 * burst[:200].pow(2).mean()


def test_zero_padding_is_a_prior_option_that_old_configs_lack():
    """A config without the field (every prior model before it) means the circular filter; the
    flag alone, without the prior, is refused; the model passes it to the prior."""
    prior = dataclasses.replace(V, spectral_prior=True)
    old = prior.to_json().replace(', "spectral_zero_pad": false', "")
    assert "spectral_zero_pad" not in old and ModelConfig.from_json(old).spectral_zero_pad is False
    with pytest.raises(ValueError, match="spectral_zero_pad"):
        dataclasses.replace(V, spectral_zero_pad=True)
    model = add_spectral_prior(tiny_model(config=V))
    padded = DiffWave(dataclasses.replace(model.config, spectral_zero_pad=True))
    padded.load_state_dict(model.state_dict())
    t = torch.tensor([5, 9])
    xt, _ = noisy(model, t)
    root = model.sqrt_alpha_bar_at(t)
    with torch.no_grad():
        assert torch.allclose(padded.network(xt, t), spectral_prior(xt, root, "v", zero_pad=True)[1], atol=1e-5)
        assert not torch.allclose(padded.network(xt, t), model.network(xt, t), atol=1e-5)


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


def test_grow_zero_pads_a_prior_and_a_fine_tune_may_too(tmp_path, capsys):
    """`diffwave grow --spectral-zero-pad` keeps every weight and sets the flag; a model without
    the prior is one line and writes nothing; a fine-tune (--init) may switch the padding on."""
    from diffwave.training.state import _init_model

    plain, prior, padded = (tmp_path / f"{name}.safetensors" for name in ("plain", "prior", "padded"))
    save_model(plain, tiny_model(config=V))
    save_model(prior, add_spectral_prior(tiny_model(config=V)))
    assert run_app(app, ["grow", str(prior), "--out", str(padded), "--spectral-zero-pad"]) == 0
    assert "whole window" in capsys.readouterr().out
    before, after = load_model(prior), load_model(padded)
    assert after.config == dataclasses.replace(before.config, spectral_zero_pad=True)
    for (name, x), y in zip(before.state_dict().items(), after.state_dict().values()):
        assert torch.equal(x, y), name
    refused = tmp_path / "refused.safetensors"
    assert run_app(app, ["grow", str(plain), "--out", str(refused), "--spectral-zero-pad"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "spectral prior" in err and not refused.exists()
    start = _init_model(str(prior), after.config)
    assert start.config == before.config  # the run's config (padded) then takes these weights


def test_a_block_prior_follows_a_note_that_stops_where_the_whole_window_smears_it():
    """A 440 Hz tone that stops half way through a 2 s row, under noise: the whole-window filter
    spreads the partial over the silent half (one gain per bin for the whole row), the block
    filter keeps the silent half near silent and the sounding half as close to the tone."""
    rate, n, sigma = 16000, 32000, 0.05
    k = torch.arange(n, dtype=torch.float64)
    tone = torch.where(k < n // 2, 0.3 * torch.sin(2 * torch.pi * 440 * k / rate), torch.zeros(()))
    y = (tone + sigma * torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[None]
    whole = subtraction_estimate(y, sigma**2, zero_pad=True)[0]
    block = block_subtraction_estimate(y, sigma**2, 4096)[0]
    quiet = slice(n // 2 + 4096, None)  # past the last block that still holds the tone
    assert block[quiet].pow(2).mean() < 0.1 * whole[quiet].pow(2).mean()
    sounding = slice(4096, n // 2 - 4096)
    assert (block - tone)[sounding].pow(2).mean() < 0.01 * tone[sounding].pow(2).mean()


def test_a_block_prior_without_noise_is_the_identity_and_takes_short_rows():
    """At sigma = 0 every bin passes with gain 1 and the inverse STFT returns the row; a row
    shorter than a block still comes back at its own length."""
    g = torch.Generator().manual_seed(1)
    y = torch.randn(2, 5000, generator=g, dtype=torch.float64)
    assert torch.allclose(block_subtraction_estimate(y, 0.0, 1024), y, atol=1e-9)
    assert block_subtraction_estimate(y[:, :100], torch.tensor([1.0, 2.0]), 1024).shape == (2, 100)


def test_the_block_is_a_prior_option_old_configs_lack_and_grow_sets(tmp_path, capsys):
    """A config without the field means the whole window; a block without the prior, with zero
    padding, or out of range is refused; `diffwave grow --spectral-block` keeps every weight, replaces
    a padded prior's padding, and the model hands the block to its prior."""
    prior = dataclasses.replace(V, spectral_prior=True)
    old = prior.to_json().replace(', "spectral_block": 0', "")
    assert "spectral_block" not in old and ModelConfig.from_json(old).spectral_block == 0
    for bad in (dict(spectral_prior=False, spectral_block=1024), dict(spectral_zero_pad=True, spectral_block=1024),
                dict(spectral_block=32), dict(spectral_block=True)):
        with pytest.raises(ValueError, match="spectral_block"):
            dataclasses.replace(prior, **bad)
    padded, blocked = tmp_path / "padded.safetensors", tmp_path / "blocked.safetensors"
    save_model(padded, DiffWave(dataclasses.replace(prior, spectral_zero_pad=True)))
    assert run_app(app, ["grow", str(padded), "--out", str(blocked), "--spectral-block", "1024"]) == 0
    capsys.readouterr()
    before, after = load_model(padded), load_model(blocked)
    assert after.config == dataclasses.replace(before.config, spectral_zero_pad=False, spectral_block=1024)
    for (name, x), y in zip(before.state_dict().items(), after.state_dict().values()):
        assert torch.equal(x, y), name
    t = torch.tensor([5, 9])
    xt, _ = noisy(after, t)
    with torch.no_grad():
        assert torch.allclose(after.network(xt, t) - before.network(xt, t),
                              spectral_prior(xt, after.sqrt_alpha_bar_at(t), "v", block=1024)[1]
                              - spectral_prior(xt, after.sqrt_alpha_bar_at(t), "v", zero_pad=True)[1], atol=1e-4)
    both = tmp_path / "both.safetensors"
    assert run_app(app, ["grow", str(padded), "--out", str(both), "--spectral-block", "1024",
                         "--spectral-zero-pad"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exclude each other" in err and not both.exists()
