"""The classical reference denoiser: its estimate, and the engine carrying its partial across a seam."""

import numpy as np
import pytest
import torch

from benchmarks.classical import SpectralSubtraction, main, subtraction_estimate
from benchmarks.continuation import steady_sine
from benchmarks.metrics import yin
from diffwave.config import ModelConfig
from extend import Extender

RATE = 16000


def config() -> ModelConfig:
    return ModelConfig(residual_channels=4, residual_layers=2, dilation_cycle=2, data_scale=4.0, terminal_alpha_bar=1e-4)


def test_subtraction_estimate_recovers_a_tone_and_drops_pure_noise():
    """A bin-centred tone at -9.5 dB broadband SNR comes back at > 15 dB (the oracle: 26); noise alone is cut to
    under 1 % of its power (a bin passes ln(n/2) with probability 2/n)."""
    g = torch.Generator().manual_seed(0)
    n, sig2 = 16000, 9.0
    tone = torch.sin(2 * torch.pi * 440 * torch.arange(n) / RATE)[None].double()
    est = subtraction_estimate(tone + sig2**0.5 * torch.randn(tone.shape, generator=g, dtype=torch.float64), sig2)
    assert 10 * torch.log10(tone.pow(2).mean() / (est - tone).pow(2).mean()) > 15
    noise = sig2**0.5 * torch.randn(4, n, generator=g, dtype=torch.float64)
    assert subtraction_estimate(noise, torch.full((4,), sig2)).pow(2).mean() < 0.01 * sig2


def test_the_module_speaks_the_denoiser_interface():
    """eps from forward turns back into the same x0 estimate; a level map is refused."""
    model = SpectralSubtraction(config())
    g = torch.Generator().manual_seed(1)
    x0 = 0.5 * torch.sin(2 * torch.pi * 300 * torch.arange(8000) / RATE)[None].repeat(2, 1)
    t = torch.tensor([50, 120])
    root = model.sqrt_alpha_bar[t][:, None]
    eps = torch.randn(x0.shape, generator=g)
    xt = root * x0 + (1 - root**2).sqrt() * eps
    eps_hat = model(xt, t)
    assert eps_hat.shape == xt.shape
    x0_hat = (xt - (1 - root**2).sqrt() * eps_hat) / root
    direct = subtraction_estimate(xt / root, ((1 - root**2) / root**2)[:, 0])
    assert torch.allclose(x0_hat, direct, atol=1e-4)
    with pytest.raises(ValueError, match="one level per row"):
        model(xt, t[:, None].expand(-1, 8000))


def test_the_engine_carries_a_found_partial_across_the_seam():
    """With a denoiser that can find a partial under noise, `lambda` continues a steady 440 Hz
    sine: the new 0.5 s keeps its level and its pitch. A sampler that lost the context fails."""
    prompt = steady_sine(440.0, RATE, seconds=3.0, onset=0.0)
    out = Extender(SpectralSubtraction(config())).extend(prompt, RATE, 0.5, sampler="lambda", steps=20, seed=0,
                                                          context=2.0, new=0.5, precision="fp32")
    new = out[len(prompt):]
    assert np.sqrt(np.mean(new**2)) == pytest.approx(np.sqrt(np.mean(prompt**2)), rel=0.3)
    track = yin(new, RATE)[5:-5]
    assert np.median(np.abs(1200 * np.log2(track / 440.0))) < 50


def test_script_smoke(tmp_path, capsys):
    main(["--seeds", "1", "--steps", "4", "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert "steady sines" in out and "reference clips" in out
    assert (tmp_path / "c" / "energy.png").stat().st_size > 1000 and (tmp_path / "c.md").exists()
