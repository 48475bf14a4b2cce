"""Guesses at the continuation, for the sampler to start from instead of pure noise.

A guide maps the audio so far to a guess at the next samples. The engine noises the guess to
the level where a shortened schedule starts (:meth:`diffwave.schedule.Schedule.lowest`) and the
sampler denoises from there (SDEdit, Meng et al. 2022), so the model refines the guess instead
of having to invent the continuation from noise, which the networks here cannot do (they keep
4-18 % of the real energy 50-100 ms past the seam in one pass at high noise, model-notes).

``lpc``: linear prediction, the classical extrapolator of audio (Kauppinen and Roth 2002). An
order-p all-pole model is fitted to the context by Burg's method (``librosa.lpc``), and its
free response from the context's last p samples is the guess:

    x[n] = -sum_{k=1..p} a_k x[n - k]

Each sustained partial is a pole pair, so the guess carries the sounding notes' pitches and
their decay across the seam. It knows no music: notes that start after the seam are not in it.

``match``: what followed the passage of the input that sounds most like the last second
(:mod:`extend.match`). It replays the input's own notes, so it does not ring out, but it can
only replay.
"""

from __future__ import annotations

import functools
from typing import Protocol, Sequence

import librosa
import numpy as np
import scipy.linalg
import scipy.signal

from .match import BRIDGE_S, SEAMLESS, bridged, match_continuation, mel_frames


class Guide(Protocol):
    def __call__(self, context: np.ndarray, n: int, rank: int = 0) -> np.ndarray:
        """A guess [n] at what follows ``context`` [L]. ``rank`` r > 0 asks for the guide's r-th
        other guess (a match guide's r-th runner-up passage), so candidates differ; a guide with
        one guess ignores it."""


LPC_ORDER = 2048  # 128 ms at 16 kHz: resolves partials about fs / p = 8 Hz apart, under A0's 27.5 Hz spacing
LPC_FIT_S = 4.0  # the engine's default context
WHITE_NOISE_CORRECTION = 1e-6  # -60 dB added to the zero-lag autocorrelation: a Toeplitz system that always solves


def burg(x: np.ndarray, order: int) -> np.ndarray:
    """Burg's all-pole fit [order + 1] (a_0 = 1); not finite when the context is predicted exactly."""
    with np.errstate(all="ignore"):
        return librosa.lpc(x, order=order)


def autocorrelation_lpc(x: np.ndarray, order: int) -> np.ndarray:
    """The autocorrelation method's fit [order + 1] (Levinson, ``scipy.linalg.solve_toeplitz``):
    r[k] = sum_n x[n] x[n + k], r[0] raised by WHITE_NOISE_CORRECTION, R a = -r[1:]. Its
    Toeplitz matrix is positive definite, so the filter is stable; the window biases poles inward."""
    r = scipy.signal.correlate(x, x, mode="full", method="fft")[len(x) - 1 : len(x) + order]
    r[0] *= 1.0 + WHITE_NOISE_CORRECTION
    return np.concatenate([[1.0], scipy.linalg.solve_toeplitz(r[:order], -r[1 : order + 1])])


def free_response(a: np.ndarray, context: np.ndarray, n: int) -> np.ndarray:
    """x[m] = -sum_k a_k x[m - k] for m past the context, started from its last len(a) - 1 samples. [n]"""
    zi = scipy.signal.lfiltic([1.0], a, context[::-1][: len(a) - 1])
    with np.errstate(all="ignore"):
        return scipy.signal.lfilter([1.0], a, np.zeros(n), zi=zi)[0]


def lpc_continuation(context: np.ndarray, n: int, order: int = LPC_ORDER) -> np.ndarray:
    """The free response of an all-pole fit to ``context`` [L], ``n`` samples long. float32 [n]

    Burg's method first (the better extrapolator, and what every piano prompt measured used).
    A context it predicts exactly (a pure tone, a float32 cast of a few partials) drives its
    error power to 0 and the fit to NaN, or to a filter that grows: then the autocorrelation
    method at the same order. A response that is not finite or passes twice the context's peak
    is refused; the order is capped at a quarter of the context, and digital silence, or a
    context too short for any order, gives silence.
    """
    x = np.asarray(context, dtype=np.float64)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    p = min(order, len(x) // 4)
    if p < 1 or peak == 0.0:
        return np.zeros(n, dtype=np.float32)
    for fit in (burg, autocorrelation_lpc):
        a = fit(x, p)
        if np.all(np.isfinite(a)):
            y = free_response(a, x, n)
            if np.all(np.isfinite(y)) and np.max(np.abs(y), initial=0.0) <= 2.0 * peak:
                return y.astype(np.float32)
    return np.zeros(n, dtype=np.float32)


def lpc_guide(rate: int, order: int = LPC_ORDER, fit_s: float = LPC_FIT_S) -> Guide:
    """:func:`lpc_continuation` fitted to the last ``fit_s`` seconds at ``rate``. A call with the
    same context and length as the one before returns that guess again without refitting (a Burg
    fit costs 0.3-0.6 s on one CPU thread)."""
    fit = max(1, int(round(fit_s * rate)))
    last: dict = {}  # the previous call: K candidates share one context in their first frame, so one fit

    def guide(context: np.ndarray, n: int, rank: int = 0) -> np.ndarray:
        x = np.asarray(context[-fit:])
        if last and last["n"] == n and np.array_equal(last["x"], x):
            return last["y"].copy()
        y = lpc_continuation(x, n, order)
        last.update(x=x.copy(), n=n, y=y)
        return y.copy()

    return guide


def match_guide(rate: int, library: Sequence[np.ndarray] | None = None,
                bridge: tuple[float, float] = BRIDGE_S) -> Guide:
    """:func:`extend.match.match_continuation` over ``library`` (mono segments at ``rate``, e.g. the
    input; None: the context each call is given), entered from :func:`lpc_guide`'s guess over the
    ``bridge`` seconds after the seam (:func:`extend.match.bridged`: the prediction holds the
    notes sounding at the seam) unless the match already continues the context's waveform; the
    prediction also fills whatever no match can."""
    fallback = lpc_guide(rate)
    fixed = None if library is None else [np.asarray(s, dtype=np.float32) for s in library]
    features = None if fixed is None else [mel_frames(s, rate) for s in fixed]

    def guide(context: np.ndarray, n: int, rank: int = 0) -> np.ndarray:
        lib, feat = (fixed, features) if fixed is not None else ([context], [mel_frames(context, rate)])

        @functools.cache
        def prediction() -> np.ndarray:  # fitted only when a bridge or a fill needs it (a Burg fit per frame)
            return fallback(context, n)

        match, meets = match_continuation(context, n, lib, feat, rate, lambda c, m: prediction()[-m:], rank)
        if meets >= SEAMLESS:  # the context is itself a passage of the library, and this runs it on
            return match
        return bridged(prediction(), match, int(bridge[0] * rate), int(bridge[1] * rate))

    return guide


def two_sided(guide: Guide, left: np.ndarray, right: np.ndarray, n: int, backward: Guide | None = None) -> np.ndarray:
    """A guess at ``n`` samples between ``left`` and ``right`` (either may be empty): the forward
    guess from the left and the time-reversed guess from the right, cross-faded linearly, each
    weighted most near its own side (a simple form of Etter 1996's two-sided AR interpolation).
    ``backward`` guesses in reversed time (None: ``guide`` itself, right for linear prediction;
    a match guide needs its library reversed). float32 [n]"""
    w = (np.arange(n) + 0.5) / n  # [n], the right side's weight
    back = guide if backward is None else backward
    forward = guide(left, n) if len(left) else None
    backward = back(np.ascontiguousarray(right[::-1]), n)[::-1] if len(right) else None
    if forward is None and backward is None:
        return np.zeros(n, dtype=np.float32)
    if backward is None:
        return forward
    if forward is None:
        return np.ascontiguousarray(backward)
    return ((1.0 - w) * forward + w * backward).astype(np.float32)


GUIDES = ("none", "lpc", "match")


def check_guide(name: str) -> str:
    """``name`` if it is a guide; ValueError naming the choices otherwise."""
    if name not in GUIDES:
        raise ValueError(f"unknown guide {name!r}; choose one of {', '.join(GUIDES)}")
    return name


def make_guide(name: str, rate: int, library: Sequence[np.ndarray] | None = None) -> Guide | None:
    """The guide called ``name`` at the model's ``rate`` (None for "none"); ValueError otherwise.
    ``library``: the audio a match guide may replay (None: each call's context)."""
    if check_guide(name) == "none":
        return None
    if name == "lpc":
        return lpc_guide(rate)
    return match_guide(rate, library)
