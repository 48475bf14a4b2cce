"""The match guide: continue the audio with what followed the most similar passage of the input.

A piece repeats itself, so the best classical guess at what comes next is often what came next
the last time the music sounded like this (audio inpainting by similarity, Perraudin et al.
2018; the "infinite jukebox" idea). The guess is built from a ``library``, the input's own
audio, in pieces:

1. The query is the last QUERY_S seconds of the audio so far. Both it and the library are
   described by log-mel frames (n_fft 2048, hop 256), each centred and scaled to unit norm, so a
   frame pair scores their correlation coefficient across mel bands.
2. Each library lag j scores the mean over the query's F frames,

       s(j) = (1 / F) sum_f <q_f, l_{j + f}>,

   over the lags followed by at least MIN_TAKE_S seconds (= QUERY_S: at the input's end no
   match can overlap the query itself).
3. The best lag is refined to the sample by the waveform correlation of the query's last 50 ms
   (within one hop), so the partials' phases run on across the seam.
4. What follows the match in the library, at the level it was played, is the guess; where it
   runs out before ``n`` samples the search runs again from the guess so far. (Scaling it to
   the query's level compounded over a long extension, each jump's gain on the last's: one clip
   rose 4 dB in 30 s and clipped, and unscaled the level error was lower on both prompt sets,
   docs/guide.md.)

Each piece starts with the residual fade of :mod:`extend.seam`, so it has no step. The engine
enters the match from the linear-prediction guess (:func:`bridged`, over BRIDGE_S), which holds
the notes sounding at the seam, unless the match already continues the context's waveform
(seam correlation >= SEAMLESS: in a long extension, the passage the last frame replayed runs
on, with no hand-over each frame). A library with no usable lag (shorter than twice QUERY_S)
or a silent query leaves the rest to that prediction. The guide knows no music either: it
replays the input, so a short input's continuation comes back to the same passages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import librosa
import numpy as np
import scipy.signal

from .seam import residual_fade

N_FFT, HOP, N_MELS = 2048, 256, 64
QUERY_S = 1.0  # the passage matched: a beat or two of piano
MIN_TAKE_S = QUERY_S  # a match is followed by at least this much: at the input's end it cannot overlap the query
ALIGN_S = 0.05  # waveform window that aligns the match to the sample
FADE_S = 0.01
SEAMLESS = 0.9  # a match whose seam correlation reaches this continues the context as it is: no bridge
BRIDGE_S = (0.2, 0.5)  # seconds after the seam over which the linear prediction hands over to the match (docs/guide.md)


@dataclass(frozen=True)
class Match:
    """One search result: library segment ``segment``, query starting at sample ``offset``."""

    segment: int
    offset: int
    score: float  # s(j), the mean frame correlation in [-1, 1]


def mel_frames(x: np.ndarray, rate: int) -> np.ndarray:
    """Per-frame centred, unit-norm log-mel features [N_MELS, F] (F = 1 + (len - N_FFT) // HOP; 0 if shorter)."""
    if len(x) < N_FFT:
        return np.zeros((N_MELS, 0))
    mel = librosa.feature.melspectrogram(y=np.asarray(x, dtype=np.float32), sr=rate, n_fft=N_FFT, hop_length=HOP,
                                         n_mels=N_MELS, center=False, fmax=rate / 2)
    db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    db = db - db.mean(axis=0, keepdims=True)
    return db / np.maximum(np.linalg.norm(db, axis=0, keepdims=True), 1e-6)


def best_match(query: np.ndarray, library: Sequence[np.ndarray], features: Sequence[np.ndarray], rate: int,
               min_take: int, rank: int = 0) -> Match | None:
    """The library lag whose next ``len(query)`` samples sound most like ``query`` [Q] (steps 1-3), or None.

    ``rank`` r > 0 takes the r-th runner-up instead: the lags are the local maxima of s(j) at
    least a query length apart (so each is another passage, not the best one shifted by a hop),
    best first, and r wraps around their count."""
    q = mel_frames(query, rate)
    if q.shape[1] == 0:
        return None
    found = []
    for i, (seg, feat) in enumerate(zip(library, features)):
        last = (len(seg) - len(query) - min_take) // HOP  # the latest lag with min_take samples after it
        if last < 0 or feat.shape[1] < q.shape[1]:
            continue
        scores = scipy.signal.correlate(feat, q, mode="valid")[0][: last + 1] / q.shape[1]  # [last + 1]
        if rank == 0:  # argmax, not the peak list: on equal scores it keeps the first lag, as before ranks
            lags = [int(np.argmax(scores))]
        else:  # -inf borders make the ends eligible peaks
            padded = np.concatenate([[-np.inf], scores, [-np.inf]])
            lags = list(scipy.signal.find_peaks(padded, distance=max(1, q.shape[1]))[0] - 1)
        found += [Match(i, j * HOP, float(scores[j])) for j in lags]
    if not found:
        return None
    found.sort(key=lambda m: -m.score)
    best = found[rank % len(found)]
    return Match(best.segment, align(query, library[best.segment], best.offset, min_take, rate), best.score)


def align(query: np.ndarray, segment: np.ndarray, offset: int, min_take: int, rate: int) -> int:
    """``offset`` moved by at most one hop to where the segment's waveform best meets the query's last ALIGN_S."""
    w = min(len(query), max(1, int(ALIGN_S * rate)))
    lo = max(0, offset - HOP)
    hi = min(len(segment) - len(query) - min_take, offset + HOP)
    if hi < lo:
        return offset
    window = segment[lo + len(query) - w : hi + len(query)]
    return lo + int(np.argmax(normalised_xcorr(window, query[-w:])))  # [hi - lo + 1] candidate lags


def normalised_xcorr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """<y, x[o : o + N]> / (||y|| ||x[o : o + N]||) for every lag o of ``y`` [N] in ``x`` [L >= N];
    0 where either is silent. [L - N + 1]"""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    corr = scipy.signal.correlate(x, y, mode="valid")
    energy = np.convolve(x**2, np.ones(len(y)), mode="valid") * float(np.dot(y, y))
    return corr / np.sqrt(np.maximum(energy, 1e-24))


def match_continuation(context: np.ndarray, n: int, library: Sequence[np.ndarray], features: Sequence[np.ndarray],
                       rate: int, fallback, rank: int = 0) -> tuple[np.ndarray, float]:
    """``n`` samples that continue ``context`` [L] from ``library`` (steps 1-4): float32 [n], and
    how well the first match meets the context (:func:`normalised_xcorr` of the context's last
    ALIGN_S with the library's samples before the match's continuation; 0 with no match).

    ``features``: :func:`mel_frames` of each library segment. ``fallback(context, m) -> [m]``
    fills what no match can (the linear-prediction guide in the engine). ``rank``: the first
    search takes that runner-up (:func:`best_match`), so candidates replay different passages;
    later searches take the best, which runs the chosen passage on.
    """
    x = np.asarray(context, dtype=np.float64)
    query_n, min_take = int(QUERY_S * rate), max(1, int(MIN_TAKE_S * rate))
    w = max(1, int(ALIGN_S * rate))
    out, meets = np.zeros(0), None
    while len(out) < n:
        history = np.concatenate([x, out])
        query = history[-query_n:]
        first = rank if not len(out) else 0
        found = best_match(query, library, features, rate, min_take, first) if np.any(query) else None
        if found is None:
            rest = np.asarray(fallback(history.astype(np.float32), n - len(out)), dtype=np.float64)
            out = np.concatenate([out, rest])
            break
        seg = np.asarray(library[found.segment], dtype=np.float64)
        start = found.offset + len(query)
        take = seg[start : start + n - len(out)]
        if meets is None and min(start, len(history)) >= w:
            meets = float(normalised_xcorr(seg[start - w : start], history[-w:])[0])
        piece = residual_fade(history[-1], seg[start - 1], take, max(1, int(FADE_S * rate)))
        out = np.concatenate([out, piece])
    return np.clip(out[:n], -1.0, 1.0).astype(np.float32), meets or 0.0


def bridged(prediction: np.ndarray, match: np.ndarray, start: int, end: int) -> np.ndarray:
    """prediction [n] handing over to match [n] between samples ``start`` and ``end`` by an
    equal-power cross-fade (the two are unrelated signals, so their powers add):
    cos(pi u / 2) prediction + sin(pi u / 2) match, u = (k - start) / (end - start) clipped to [0, 1]. float32 [n]"""
    u = np.clip((np.arange(len(match)) - start) / max(end - start, 1), 0.0, 1.0)
    return (np.cos(0.5 * np.pi * u) * prediction + np.sin(0.5 * np.pi * u) * match).astype(np.float32)
