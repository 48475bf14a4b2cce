"""The exact-posterior oracle against dense linear algebra on tiny cases."""

import numpy as np
import pytest
import torch

from benchmarks.oracle import HarmonicGP, WienerDenoiser, evaluate, exact_conditional
from diffwave.config import ModelConfig
from diffwave.schedule import make_schedule, training_betas
from extend.samplers import SAMPLERS

GP = HarmonicGP(rate=8000, f0=440.0, partials=3)


def test_wiener_denoiser_matches_a_direct_solve():
    """E[eps | x_t] from the eigenbasis equals sqrt(1-abar) (abar K + (1-abar) I)^-1 x_t, solved directly."""
    config = ModelConfig()
    n = 24
    den = WienerDenoiser(GP, n, config)
    x = torch.randn(3, n, dtype=torch.float64)
    t = 37
    abar = float(torch.cumprod(1 - training_betas(config), 0)[t])
    K = GP.covariance(n)
    direct = np.sqrt(1 - abar) * np.linalg.solve(abar * K + (1 - abar) * np.eye(n), x.numpy().T).T
    got = den(x, torch.tensor([float(t)] * 3)).numpy()
    assert np.allclose(got, direct, rtol=1e-8, atol=1e-10)


def test_fractional_steps_interpolate_sqrt_alpha_bar():
    """Between integer steps the oracle's sqrt(abar) is linear, matching the schedule alignment."""
    den = WienerDenoiser(GP, 8, ModelConfig())
    a, b = den.alpha_bar(10), den.alpha_bar(11)
    assert den.alpha_bar(10.25) == pytest.approx((0.75 * a**0.5 + 0.25 * b**0.5) ** 2)


def test_exact_conditional_matches_dense_gaussian_conditioning():
    """Toeplitz-solved conditional mean/cov equal the dense Schur-complement formulas."""
    n_known, n_new = 20, 7
    K = GP.covariance(n_known + n_new)
    known = np.random.default_rng(0).standard_normal(n_known) * 0.1
    Kkk, Kkn, Knn = K[:n_known, :n_known], K[:n_known, n_known:], K[n_known:, n_known:]
    mean_dense = Kkn.T @ np.linalg.solve(Kkk, known)
    cov_dense = Knn - Kkn.T @ np.linalg.solve(Kkk, Kkn)
    mean, cov = exact_conditional(GP, known, n_new)
    assert np.allclose(mean, mean_dense, atol=1e-10)
    assert np.allclose(cov, cov_dense, atol=1e-12)


def test_exact_samples_score_near_the_floor_and_naive_runs():
    """The evaluation runs for a sampler, and its floor (exact vs exact) shows small KS."""
    res = evaluate(SAMPLERS["naive"], GP, make_schedule(ModelConfig(), 10), ModelConfig(), n_known=64, n_new=32,
                   count=64, seam_window=8)
    assert res["nfe"] == 10
    assert res["exact_floor_far"]["ks"] < 0.25
    assert 0.6 < res["exact_floor_far"]["variance_ratio"] < 1.4
    assert set(res["near_seam"]) == {"mean_error", "variance_ratio", "ks"}


def test_gap_conditional_matches_extension_and_is_time_symmetric():
    """With nothing on the right, a gap is an extension; and a stationary prior conditions a
    reversed gap to the reversed answer."""
    import numpy as np

    from benchmarks.oracle import exact_conditional, gap_conditional

    gp = HarmonicGP()
    x = gp.sample(120, 1, np.random.default_rng(0))[0]
    m1, c1 = gap_conditional(gp, x[:80], x[80:80], 30)
    m2, c2 = exact_conditional(gp, x[:80], 30)
    assert np.allclose(m1, m2, atol=1e-8) and np.allclose(c1, c2, atol=1e-10)
    m, c = gap_conditional(gp, x[:50], x[80:], 30)
    mr, cr = gap_conditional(gp, x[80:][::-1], x[:50][::-1], 30)
    assert np.allclose(m, mr[::-1], atol=1e-8) and np.allclose(c, cr[::-1, ::-1], atol=1e-10)
    assert np.diag(c).max() < np.diag(c1).max()  # known audio on both sides narrows the gap


def test_forcing_fills_a_gap_at_the_exact_floor():
    """On a gap, clean-context sampling with the exact denoiser is near exact draws, and replacement is not."""
    config = ModelConfig()
    schedule = make_schedule(config, 50)
    res = {name: evaluate(SAMPLERS[name], GP, schedule, config, n_known=192, n_new=96, count=96, layout="gap")
           for name in ("naive", "forcing")}
    assert res["forcing"]["near_seam"]["mean_error"] < 0.3 * res["naive"]["near_seam"]["mean_error"]
    assert res["forcing"]["near_seam"]["ks"] < res["forcing"]["exact_floor_near"]["ks"] + 0.08


@pytest.mark.parametrize("target", [None, 1e-4])
def test_a_near_zero_terminal_snr_schedule_samples_exactly_through_eps(target):
    """At abar_T = 1e-4 sampling still works in eps (x0 = (x - sqrt(1-abar) eps) / sqrt(abar) divides by
    0.01): with the exact denoiser, unconditional samples have the prior's covariance, as on the plain schedule."""
    from diffwave.sampling import generate

    gp = HarmonicGP(rate=8000, f0=440.0, partials=3, rms=0.5)  # the bundled recipe's level (audio x4)
    config, n, count = ModelConfig(terminal_alpha_bar=target), 24, 2048
    g = torch.Generator().manual_seed(0)
    x = generate(WienerDenoiser(gp, n, config), torch.randn(count, n, generator=g, dtype=torch.float64),
                 make_schedule(config), g)
    K = gp.covariance(n)
    got = (x.T @ x / count).numpy()
    assert np.abs(got - K).max() < 0.15 * K[0, 0]
    assert 0.9 < np.trace(got) / np.trace(K) < 1.1


@pytest.mark.parametrize("name", ["lambda", "guidance"])
def test_samplers_on_a_near_zero_terminal_snr_schedule_score_as_on_the_plain_one(name):
    """The rescaled top (abar_T = 1e-4) neither breaks lambda's schedule nor guidance's gradient through
    x0 = (x - sqrt(1-abar) eps) / sqrt(abar): with the exact denoiser each lands where it lands on the plain schedule."""
    gp = HarmonicGP(rate=8000, f0=440.0, partials=3, rms=0.5)
    ks = {}
    for target in (None, 1e-4):
        config = ModelConfig(terminal_alpha_bar=target)
        r = evaluate(SAMPLERS[name], gp, make_schedule(config, 50), config, n_known=64, n_new=32, count=128,
                     seam_window=8)
        assert np.isfinite(r["far"]["mean_error"])
        ks[target] = (r["near_seam"]["ks"], r["far"]["ks"])
    assert abs(ks[1e-4][0] - ks[None][0]) < 0.04 and abs(ks[1e-4][1] - ks[None][1]) < 0.04
