"""A classical denoiser over the whole window: the spectral prior a DiffWave may build on.

One pass of a DiffWave sees its receptive field (16,381 samples, 1.02 s, for the bundled
C32/L24), and under heavy noise a short window cannot find a partial: its energy is spread
over few samples. Power
spectral subtraction over the whole window (5 s in the engine's frames) finds it, because a
steady partial's bin grows with the window length n while a noise bin does not. With
``config.spectral_prior`` the network adds a learned correction to this estimate and reads
the estimate as a second input channel (:class:`diffwave.model.DiffWave`).

Shapes: signals are [B, n] (rows are independent windows); per-row levels are [B].
"""

from __future__ import annotations

import math

import torch

# receptive_field of a denoiser whose one pass reads its whole input (the engine then never crops)
WHOLE_WINDOW = 10**9


def interpolate_sqrt_alpha_bar(table: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """sqrt(abar_t) shaped like ``t``, from ``table`` [T] = sqrt(abar) at the training steps.

    Integer t indexes the table; fractional t interpolates linearly between its neighbours,
    as the fast-schedule alignment does (DiffWave app. B)."""
    if not torch.is_floating_point(t):
        return table[t]
    steps = t.to(table.dtype).clamp(0, len(table) - 1)
    low = steps.floor().long()
    high = steps.ceil().long()
    return table[low] + (steps - low.to(table.dtype)) * (table[high] - table[low])


def subtraction_estimate(y: torch.Tensor, sig2: torch.Tensor, threshold: float | None = None,
                         zero_pad: bool = False) -> torch.Tensor:
    """Clean estimate from y = x0 + sigma z (z white, unit variance), per row, over its length n.

    Per rfft bin k: P_k = max(|Y_k|^2 - a n sigma^2, 0), x0_hat = irfft(P_k / (P_k + n sigma^2) Y_k)
    (power spectral subtraction, then the Wiener gain). ``threshold`` a defaults to ln(n / 2),
    the expected largest of n / 2 unit-mean exponentials (the noise bins' |Z_k|^2 / n): below
    it a bin is most likely noise alone. ``zero_pad``: the DFT is taken over the row padded
    with n zeros (a noise bin's expected power is still n sigma^2) and the first n samples are
    kept, so the gain filters linearly instead of wrapping the row's end onto its start.
    y: [B, n]; sig2: [B] or scalar. Returns [B, n]."""
    n = y.shape[-1]
    size = 2 * n if zero_pad else n
    a = math.log(max(n / 2, 2.0)) if threshold is None else threshold
    noise = n * torch.as_tensor(sig2, dtype=y.dtype, device=y.device).reshape(-1, 1)
    spec = torch.fft.rfft(y, n=size, dim=-1)
    power = (spec.abs() ** 2 - a * noise).clamp_min(0.0)
    return torch.fft.irfft(power / (power + noise) * spec, n=size, dim=-1)[..., :n]


def block_subtraction_estimate(y: torch.Tensor, sig2: torch.Tensor, block: int,
                               threshold: float | None = None) -> torch.Tensor:
    """:func:`subtraction_estimate` per short-time block instead of over the whole row.

    STFT with a periodic Hann window w of ``block`` samples and hop block / 4 (zero-padded
    ends); a noise bin's expected power is sigma^2 sum(w^2), so per bin (k, m):
    P = max(|Y|^2 - a sigma^2 sum(w^2), 0) and the gain P / (P + sigma^2 sum(w^2)), then the
    inverse STFT (overlap-add, window-sum normalised). ``threshold`` a defaults to ln(block / 2).
    Unlike the whole-row filter, a partial's estimate follows its level from block to block, so
    a decaying note is estimated as decaying; the price is the shorter window's smaller gain
    against noise. y: [B, n]; sig2: [B] or scalar. Returns [B, n]."""
    n = y.shape[-1]
    hop = block // 4
    a = math.log(block / 2) if threshold is None else threshold
    window = torch.hann_window(block, periodic=True, dtype=y.dtype, device=y.device)
    noise = torch.as_tensor(sig2, dtype=y.dtype, device=y.device).reshape(-1, 1, 1) * window.square().sum()
    spec = torch.stft(y, block, hop, window=window, center=True, pad_mode="constant",
                      return_complex=True)  # [B, block / 2 + 1, frames]
    power = (spec.abs() ** 2 - a * noise).clamp_min(0.0)
    return torch.istft(power / (power + noise) * spec, block, hop, window=window, center=True, length=n)


def spectral_prior(x: torch.Tensor, root: torch.Tensor, parameterization: str,
                   zero_pad: bool = False, block: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The prior's clean estimate and its prediction in ``parameterization``, both [B, L] float32.

    x = x_t [B, L]; root = sqrt(abar_t) [B]. y = x_t / sqrt(abar) = x0 + sqrt((1 - abar) / abar) z
    (DDPM eq. 4), x0_hat = :func:`subtraction_estimate` (y, zero_pad), or with ``block`` > 0
    :func:`block_subtraction_estimate` (y, block), and with s = sqrt(1 - abar):
    eps = (x_t - sqrt(abar) x0_hat) / s, v = (sqrt(abar) x_t - x0_hat) / s (Salimans & Ho 2022, eq. 5)."""
    with torch.autocast(x.device.type, enabled=False):  # the FFT runs in float32 whatever the caller's precision
        x, a = x.float(), root.float()[:, None]  # [B, L], [B, 1]
        abar = a * a
        s = (1.0 - abar).clamp_min(1e-12).sqrt()
        sig2 = ((1.0 - abar) / abar)[:, 0]
        x0 = (block_subtraction_estimate(x / a, sig2, block) if block
              else subtraction_estimate(x / a, sig2, zero_pad=zero_pad))
        if parameterization == "eps":
            return x0, (x - a * x0) / s
        return x0, (a * x - x0) / s
