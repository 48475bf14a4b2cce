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
