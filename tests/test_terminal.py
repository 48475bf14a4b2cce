"""benchmarks.terminal: the top-level check, against the exact denoiser and end to end."""

import json

import numpy as np
import pytest
import torch

from benchmarks.oracle import HarmonicGP, WienerDenoiser
from benchmarks.terminal import main, nearest_step, restart, top_level, trajectory, x0_slope
from diffwave.config import ModelConfig
from diffwave.schedule import make_schedule, training_schedule

GP = HarmonicGP(rate=8000, f0=440.0, partials=3, rms=0.5)  # the bundled recipe's level (audio x4)


def shrunk(exact: WienerDenoiser, factor: float):
    """A denoiser whose x0 estimate (DDPM eq. 15) is ``factor`` times the exact one's, returned as eps."""
    def denoise(x, t):
        a = exact.alpha_bar(float(t[0]))
        x0_hat = (x - (1 - a) ** 0.5 * exact(x, t)) / a**0.5
        return (x - a**0.5 * x0_hat * factor) / (1 - a) ** 0.5
    return denoise


@pytest.mark.parametrize("target", [None, 1e-4])
def test_the_exact_denoiser_samples_track_the_forward_marginal(target):
    """With the exact denoiser the samples have the data's RMS and x follows sqrt(abar s^2 + 1 - abar)
    at every reverse step: the measurement reads 1 where nothing is wrong."""
    config, n = ModelConfig(terminal_alpha_bar=target), 24
    g = torch.Generator().manual_seed(0)
    run = trajectory(WienerDenoiser(GP, n, config), make_schedule(config), GP.rms, 1024, n, g)
    assert run["samples / data RMS"] == pytest.approx(1.0, abs=0.06)
    assert np.allclose(run["x RMS"], run["marginal RMS"], rtol=0.06)


def test_at_a_near_zero_terminal_level_real_and_white_inputs_look_alike():
    """At abar_T = 1e-4 the audio is gone from x_T, so the exact denoiser's estimate is the same size from a
    real x_T as from white noise; at the plain abar_T = 0.13 the real x_T gives a larger one."""
    n = 128
    x0 = torch.from_numpy(GP.sample(n, 512, np.random.default_rng(0))).float()
    ratios = {}
    for target in (None, 1e-4):
        config = ModelConfig(terminal_alpha_bar=target)
        r = top_level(WienerDenoiser(GP, n, config), training_schedule(config), x0, torch.Generator().manual_seed(1))
        ratios[target] = r["x0 from a real x_T / data RMS"] / r["x0 from white noise / data RMS"]
    assert ratios[1e-4] == pytest.approx(1.0, abs=0.05)
    assert ratios[None] > 1.3


def test_the_x0_slope_is_one_for_the_conditional_mean_and_two_for_half_of_it():
    """Orthogonality: the exact denoiser scores 1 at every level; one whose x0 estimate is halved scores 2."""
    config, n = ModelConfig(), 64
    exact = WienerDenoiser(GP, n, config)
    schedule = training_schedule(config)
    x0 = torch.from_numpy(GP.sample(n, 1024, np.random.default_rng(0)))

    halved = shrunk(exact, 0.5)
    for level in (20, 100, 180):
        assert x0_slope(exact, schedule, x0, level, torch.Generator().manual_seed(level)) == pytest.approx(1.0, abs=0.05)
        assert x0_slope(halved, schedule, x0, level, torch.Generator().manual_seed(level)) == pytest.approx(2.0, abs=0.1)


def test_restarting_from_real_audio_keeps_its_level_with_the_exact_denoiser_and_not_with_a_shrunk_one():
    """The exact denoiser makes audio of the data's RMS from any level, and keeps more of the clip the
    lower it starts; one whose x0 estimate is halved loses most of it: the shrink compounds over the steps."""
    config, n = ModelConfig(terminal_alpha_bar=1e-4), 32
    exact = WienerDenoiser(GP, n, config)
    schedule = make_schedule(config)
    x0 = torch.from_numpy(GP.sample(n, 512, np.random.default_rng(0)))

    halved = shrunk(exact, 0.5)
    starts = [nearest_step(schedule, t) for t in (50, 100, 199)]
    assert starts == [50, 100, 199]
    good = [restart(exact, schedule, x0, s, torch.Generator().manual_seed(s)) for s in starts]
    bad = [restart(halved, schedule, x0, s, torch.Generator().manual_seed(s)) for s in starts]
    assert all(r["rms"] == pytest.approx(1.0, abs=0.06) for r in good)
    assert good[0]["snr"] > good[1]["snr"] > good[2]["snr"]
    assert all(r["rms"] < 0.5 for r in bad)


def test_the_script_writes_its_table_plot_and_json(tmp_path):
    out = tmp_path / "terminal"
    main(["--tiny", "--samples", "1", "--seconds", "0.1", "--steps", "4", "--clips", "2", "--out", str(out)])
    data = json.loads((out / "terminal.json").read_text())
    assert data["rows"][0]["model"] == "tiny" and len(data["trajectories"]["tiny"]["x RMS"]) == 4
    assert (out / "trajectory.png").stat().st_size > 0 and (out / "restart.png").stat().st_size > 0
    assert len(data["restarts"]["tiny"]["rms"]) == 4
    assert "| tiny |" in out.with_suffix(".md").read_text()
