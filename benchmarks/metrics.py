"""Measures shared by the benchmarks: distributions, seams, pitch, cost. Arrays are mono [L]."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.signal
import scipy.stats

HOP_S = 0.01


VOICED = 0.5  # CREPE periodicity at or above which a frame counts as voiced (every benchmark)
CLICK = 3.0  # click score above which a seam is an audible click (:func:`click_score`)

def ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value of sample values (paper Fig. 3)."""
    r = scipy.stats.ks_2samp(np.ravel(a), np.ravel(b))
    return float(r.statistic), float(r.pvalue)


def seam_flux_ratio(audio: np.ndarray, seam: int, rate: int, hop: int | None = None) -> float:
    """Spectral flux at the seam over the median flux inside the known audio (1.0: invisible).

    Flux is librosa's onset strength (positive log-mel spectral difference); the seam value is
    the largest frame within one hop of the seam.
    """
    import librosa

    hop = hop or int(rate * HOP_S)
    flux = librosa.onset.onset_strength(y=np.asarray(audio, dtype=np.float32), sr=rate, hop_length=hop, center=True)
    k = int(round(seam / hop))
    near = flux[max(k - 1, 0) : k + 2]
    inside = flux[2 : max(k - 2, 3)]
    base = float(np.median(inside)) if len(inside) else 0.0
    return float(near.max()) / max(base, 1e-9)


def high_band(audio: np.ndarray, rate: int) -> np.ndarray:
    """|zero-phase 4th-order Butterworth high-pass above rate/4| of ``audio``: where a click shows. [L]"""
    sos = scipy.signal.butter(4, rate / 4, btype="highpass", fs=rate, output="sos")
    return np.abs(scipy.signal.sosfiltfilt(sos, np.asarray(audio, dtype=np.float64)))


def click_score(audio: np.ndarray, seam: int, rate: int, window_s: float = 0.004) -> float:
    """Peak high-passed (> rate/4) amplitude within +-window of the seam over the 99th
    percentile of the same signal in the known audio. Above ~3 is an audible click."""
    hp = high_band(audio, rate)
    w = max(1, int(window_s * rate))
    near = hp[max(seam - w, 0) : seam + w]
    known = hp[: max(seam - 4 * w, 1)]
    return float(near.max()) / max(float(np.percentile(known, 99)), 1e-9)


def click_windows(audio: np.ndarray, reference: int, rate: int, window_s: float = 0.008) -> np.ndarray:
    """Per window of ``window_s`` in ``audio[reference:]``: True where the high-passed (> rate/4)
    peak passes CLICK times the 99th percentile of ``audio[:reference]``'s, the measure of
    :func:`click_score` applied everywhere instead of at one seam. The zero-phase filter rings
    where the signal ends, so the last window is not scored. bool [(len - reference) // w]"""
    hp = high_band(audio, rate)
    w = max(1, int(window_s * rate))
    floor = max(float(np.percentile(hp[:reference], 99)), 1e-9)
    n = (len(hp) - reference) // w
    hits = hp[reference : reference + n * w].reshape(n, w).max(axis=1) > CLICK * floor
    hits[-1:] = False
    return hits


def has_click(audio: np.ndarray, seam: int, rate: int) -> bool:
    return click_score(audio, seam, rate) > CLICK


def pitch_accuracy(f0: np.ndarray, f0_ref: np.ndarray, voiced: np.ndarray, voiced_ref: np.ndarray,
                   tolerance: float = 0.03, min_frames: int = 10) -> float:
    """Fraction of frames voiced in both whose pitch is within 3 % of the reference's
    (the authors' accuracy); NaN when fewer than ``min_frames`` (0.1 s at a 10 ms hop) are
    voiced in both, so that a handful of frames cannot score a perfect 1."""
    both = voiced & voiced_ref & (f0 > 0) & (f0_ref > 0)
    if both.sum() < min_frames:
        return float("nan")
    return float(np.mean(np.abs(f0[both] / f0_ref[both] - 1.0) <= tolerance))


def seam_pitch_jump_cents(f0: np.ndarray, voiced: np.ndarray, seam_frame: int, span: int = 10) -> float:
    """|1200 log2(median f0 after / median f0 before)| over ``span`` voiced frames each side."""
    before = f0[max(seam_frame - span, 0) : seam_frame][voiced[max(seam_frame - span, 0) : seam_frame]]
    after = f0[seam_frame : seam_frame + span][voiced[seam_frame : seam_frame + span]]
    if len(before) == 0 or len(after) == 0:
        return float("nan")
    return float(abs(1200.0 * np.log2(np.median(after) / np.median(before))))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to rows of a [N, D] and b [M, D]."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(cov_a @ cov_b))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * covmean))


def spectral_centroid(audio: np.ndarray, rate: int) -> np.ndarray:
    """Per-frame spectral centroid in Hz (librosa), hop 10 ms. [frames]"""
    import librosa

    return librosa.feature.spectral_centroid(y=np.asarray(audio, dtype=np.float32), sr=rate,
                                             hop_length=int(rate * HOP_S))[0]


def yin(audio: np.ndarray, rate: int) -> np.ndarray:
    """YIN f0 (librosa) with the paper's settings where the rate allows: hop 10 ms,
    about 46 ms windows (1024 samples at 22.05 kHz; the next power of two here), 40-2000 Hz."""
    import librosa

    frame = 1 << int(np.ceil(np.log2(0.0464 * rate)))
    return librosa.yin(np.asarray(audio, dtype=np.float32), fmin=40.0, fmax=2000.0, sr=rate,
                       frame_length=frame, hop_length=int(rate * HOP_S))


def seed_echo(runs: np.ndarray) -> np.ndarray:
    """How much of each continuation its seed sets rather than its prompt.

    ``runs`` [P, N]: the same span of P >= 2 continuations of different prompts, drawn with the
    same seed (the engine's noise is then the same sample for sample). For each run p, the
    median over the others q of the zero-lag normalised correlation

        e_p = median_q <y_p, y_q> / (||y_p|| ||y_q||),

    about 0 when each continuation follows its own prompt (two real continuations: |e| < 0.05),
    1 when the same waveform comes out whatever the prompt. 0 where a run is silent; NaN for
    every run when P < 2. [P]"""
    y = np.asarray(runs, dtype=np.float64)
    if len(y) < 2:
        return np.full(len(y), np.nan)
    norm = np.linalg.norm(y, axis=1)
    gram = (y @ y.T) / np.maximum(np.outer(norm, norm), 1e-24)  # [P, P]
    gram = np.clip(gram, -1.0, 1.0)  # Cauchy-Schwarz bounds it; rounding can pass 1 by an ulp
    off = ~np.eye(len(y), dtype=bool)
    return np.median(gram[off].reshape(len(y), len(y) - 1), axis=1)
