"""Exact-posterior oracle: judge samplers independently of any trained network.

The data are a stationary Gaussian process x0 ~ N(0, K), K Toeplitz, whose power spectrum
is a set of decaying harmonic partials (a damped sinusoid has a Lorentzian line), like a
sustained piano note, plus a small white floor. For this prior:

- the optimal epsilon-denoiser at level abar is a Wiener filter,
      E[eps | x_t] = sqrt(1 - abar) (abar K + (1 - abar) I)^{-1} x_t,
  applied in K's eigenbasis (computed once per window length);
- the exact conditional of the new region given the known region is Gaussian,
      mean = K_nk K_kk^{-1} x_k,   cov = K_nn - K_nk K_kk^{-1} K_kn,
  with K_kk^{-1} applied by a Toeplitz (Levinson) solve.

A sampler is correct if, given this denoiser, its samples of the new region follow that
conditional. Shapes: windows are [B, L] with L = known + new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.stats
import torch

from diffwave.config import ModelConfig
from diffwave.schedule import training_schedule


@dataclass(frozen=True)
class HarmonicGP:
    """Decaying harmonic partials: k(tau) = sum_h w_h e^{-d|tau|} cos(2 pi h f0 tau) + floor."""

    rate: int = 8000
    f0: float = 220.0
    partials: int = 6
    decay: float = 12.0  # 1/s: the partials' amplitude decay, i.e. the Lorentzian line width
    rms: float = 0.1
    floor: float = 0.02  # white fraction of the variance

    def autocov(self, n: int) -> np.ndarray:
        """k(0..n-1). [n]"""
        tau = np.arange(n) / self.rate
        h = np.arange(1, self.partials + 1)
        w = 1.0 / h**2
        w = w / w.sum() * (1.0 - self.floor)
        k = (w[:, None] * np.exp(-self.decay * tau)[None] * np.cos(2 * np.pi * h[:, None] * self.f0 * tau[None])).sum(0)
        k[0] += self.floor
        return k * self.rms**2

    def covariance(self, n: int) -> np.ndarray:
        return scipy.linalg.toeplitz(self.autocov(n))

    def sample(self, n: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """count draws of length n. [count, n]"""
        chol = np.linalg.cholesky(self.covariance(n) + 1e-12 * np.eye(n))
        return rng.standard_normal((count, n)) @ chol.T


class WienerDenoiser(torch.nn.Module):
    """Exact MMSE epsilon prediction for the GP prior, behind the DiffWave interface."""

    def __init__(self, gp: HarmonicGP, length: int, config: ModelConfig):
        super().__init__()
        evals, evecs = np.linalg.eigh(gp.covariance(length))
        self.evals = torch.from_numpy(np.clip(evals, 0.0, None))
        self.evecs = torch.from_numpy(evecs)
        self.sqrt_abar = training_schedule(config).alpha_bars.sqrt()
        self.calls = 0

    def alpha_bar(self, t: float) -> float:
        """abar at a fractional training step: sqrt(abar) is linear between steps (the alignment rule)."""
        lo = int(np.floor(t))
        hi = min(lo + 1, len(self.sqrt_abar) - 1)
        frac = t - lo
        s = (1 - frac) * self.sqrt_abar[lo] + frac * self.sqrt_abar[hi]
        return float(s) ** 2

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x [B, L]; t [B] (one level for the batch) or a level map [B, L] (:meth:`level_map`)."""
        self.calls += 1
        if t.dim() == 2 and not bool((t == t[:1, :1]).all()):
            return self.level_map(x, t)
        a = self.alpha_bar(float(t.reshape(-1)[0]))
        coeff = (1.0 - a) ** 0.5 / (a * self.evals + (1.0 - a))  # [L]
        z = x.to(torch.float64) @ self.evecs  # coordinates in the eigenbasis, [B, L]
        return ((z * coeff) @ self.evecs.T).to(x.dtype)


    def level_map(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Exact E[eps | x] when sample i has its own level: x = A x0 + S z with A = diag(sqrt(abar_i)),
        S = diag(sqrt(1 - abar_i)), so E[z | x] = S (A K A + S^2)^{-1} x. One solve per distinct map."""
        cov = (self.evecs * self.evals) @ self.evecs.T  # K [L, L]
        maps, rows = torch.unique(t.to(torch.float64), dim=0, return_inverse=True)
        out = torch.empty(x.shape, dtype=torch.float64)
        for k, levels in enumerate(maps):
            a = torch.tensor([self.alpha_bar(float(v)) for v in levels], dtype=torch.float64)
            amp, sd = a.sqrt(), (1.0 - a).sqrt()
            system = amp[:, None] * cov * amp[None, :] + torch.diag(sd**2)
            pick = rows == k
            out[pick] = (sd[:, None] * torch.linalg.solve(system, x[pick].to(torch.float64).T)).T
        return out.to(x.dtype)


def exact_conditional(gp: HarmonicGP, known: np.ndarray, n_new: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean [G] and covariance [G, G] of the new region right after ``known`` [K]."""
    n_known = len(known)
    k = gp.autocov(n_known + n_new)
    # cross[j, i] = Cov(x_known[j], x_new[i]) = k(n_known + i - j)
    j = np.arange(n_known)[:, None]
    i = np.arange(n_new)[None, :]
    cross = k[n_known + i - j]  # [K, G]
    solved = scipy.linalg.solve_toeplitz(k[:n_known], cross)  # K_kk^{-1} K_kn, [K, G]
    mean = solved.T @ known
    cov = scipy.linalg.toeplitz(k[:n_new]) - cross.T @ solved
    return mean, (cov + cov.T) / 2


def gap_conditional(gp: HarmonicGP, left: np.ndarray, right: np.ndarray, n_new: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean [G] and covariance [G, G] of a gap of ``n_new`` samples between ``left`` and ``right``:
    the same Gaussian conditioning with the known samples on both sides (a dense solve)."""
    n_left = len(left)
    length = n_left + n_new + len(right)
    cov = gp.covariance(length)
    new = np.arange(n_left, n_left + n_new)
    known = np.setdiff1d(np.arange(length), new)
    solved = scipy.linalg.solve(cov[np.ix_(known, known)], cov[np.ix_(known, new)], assume_a="pos")  # [K, G]
    mean = solved.T @ np.concatenate([left, right])
    out = cov[np.ix_(new, new)] - cov[np.ix_(known, new)].T @ solved
    return mean, (out + out.T) / 2


LAYOUTS = ("extend", "gap")


def evaluate(sampler, gp: HarmonicGP, schedule, config: ModelConfig, n_known: int = 512, n_new: int = 256,
             count: int = 256, seed: int = 0, seam_window: int = 32, layout: str = "extend", **options) -> dict:
    """Run ``sampler`` with the Wiener denoiser ``count`` times from shared noise; compare the
    new region with the exact conditional (mean error in conditional std units, variance
    ratio, KS statistic against exact samples), near the seam(s) and further away.

    ``layout`` "extend": ``n_known`` known samples, then ``n_new`` new ones (one seam).
    "gap": half the known samples on each side of the new ones (two seams; "near" is
    ``seam_window`` samples at each end of the gap).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    rng = np.random.default_rng(seed)
    length = n_known + n_new
    n_left = n_known if layout == "extend" else n_known // 2
    context = gp.sample(n_known, 1, rng)[0] if layout == "extend" else gp.sample(length, 1, rng)[0]
    if layout == "extend":
        known_audio = context
        mean, cov = exact_conditional(gp, known_audio, n_new)
    else:
        known_audio = np.concatenate([context[:n_left], context[n_left + n_new:]])
        mean, cov = gap_conditional(gp, context[:n_left], context[n_left + n_new:], n_new)
    std = np.sqrt(np.clip(np.diag(cov), 1e-30, None))
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(n_new) * cov.trace() / n_new)
    exact = mean + rng.standard_normal((count, n_new)) @ chol.T

    mask = torch.ones(length, dtype=torch.float64)
    mask[n_left : n_left + n_new] = 0.0
    known = torch.zeros(count, length, dtype=torch.float64)
    known[:, mask.bool()] = torch.from_numpy(known_audio)
    noise = torch.randn(count, length, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    denoiser = WienerDenoiser(gp, length, config)
    out = sampler(denoiser, noise, known, mask, schedule, torch.Generator().manual_seed(seed + 1), **options)
    new = out[:, n_left : n_left + n_new].detach().numpy()

    def summary(samples: np.ndarray, cols: np.ndarray) -> dict:
        m = (samples[:, cols].mean(0) - mean[cols]) / std[cols]
        ratio = samples[:, cols].var(0, ddof=1) / std[cols] ** 2
        ks_stats = [scipy.stats.ks_2samp(samples[:, p], exact[:, p]).statistic for p in cols]
        return {"mean_error": float(np.sqrt(np.mean(m**2))), "variance_ratio": float(np.mean(ratio)),
                "ks": float(np.mean(ks_stats))}

    cols = np.arange(n_new)
    near_cols = cols[:seam_window] if layout == "extend" else np.concatenate([cols[:seam_window], cols[-seam_window:]])
    far_cols = np.setdiff1d(cols, near_cols)
    # What a perfect sampler scores with this many samples: fresh exact draws against `exact`.
    floor = mean + rng.standard_normal((count, n_new)) @ chol.T
    return {"near_seam": summary(new, near_cols), "far": summary(new, far_cols), "nfe": denoiser.calls,
            "exact_floor_near": summary(floor, near_cols), "exact_floor_far": summary(floor, far_cols)}
