"""The match guide: it finds the passage that sounds like the query and continues with what followed."""

import numpy as np

from extend import Extender
from extend.guide import lpc_continuation, make_guide, two_sided
from extend.match import BRIDGE_S, QUERY_S, SEAMLESS, best_match, bridged, match_continuation, mel_frames

from .conftest import tiny_model

RATE = 8000
NOTE = RATE // 4  # 0.25 s notes, 4 to a 1 s phrase


def phrase(pitches: list[float]) -> np.ndarray:
    """Decaying harmonic notes of 0.25 s each. float64 [len(pitches) * NOTE]"""
    t = np.arange(NOTE) / RATE
    return np.concatenate([sum(0.2 / k * np.exp(-6.0 * t) * np.sin(2 * np.pi * k * f * t) for k in (1, 2, 3))
                           for f in pitches])


A, B = phrase([262.0, 330.0, 392.0, 330.0]), phrase([294.0, 370.0, 440.0, 587.0])
PROMPT, NEXT = np.concatenate([A, B, A]), B  # A B A, then B again


def corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def found_at(y: np.ndarray, x: np.ndarray) -> tuple[int, float]:
    """Where in ``x`` the stretch most like ``y`` starts, and its normalised correlation."""
    c = np.correlate(x, y, mode="valid") / np.sqrt(np.convolve(x**2, np.ones(len(y)), mode="valid") * np.sum(y**2))
    return int(np.argmax(c)), float(np.max(c))


def test_the_match_is_what_followed_the_same_phrase():
    """Prompt A B A: the query (the last A) matches the first A, so the guess is B, to the sample;
    linear prediction of the same context knows nothing of B."""
    found = best_match(PROMPT[-RATE:], [PROMPT], [mel_frames(PROMPT, RATE)], RATE, RATE)
    assert found.offset == 0 and found.score > 0.99
    guess, _ = match_continuation(PROMPT, RATE, [PROMPT], [mel_frames(PROMPT, RATE)], RATE, lambda c, m: np.zeros(m))
    assert guess.dtype == np.float32 and guess.shape == (RATE,)
    assert corr(guess, NEXT) > 0.99
    assert abs(corr(lpc_continuation(PROMPT, RATE, order=512)[NOTE:], NEXT[NOTE:])) < 0.3


def test_the_guide_enters_the_match_from_the_prediction_unless_the_match_runs_on():
    """Prompt A B A', A' the phrase 5 cents sharp: the match (the first A) does not continue A''s
    waveform, so the guide is the linear prediction up to BRIDGE_S[0] and the match (B) from
    BRIDGE_S[1], at the level the library played it. An exact repeat runs on with no bridge."""
    sharp = phrase([262.0 * 1.003, 330.0 * 1.003, 392.0 * 1.003, 330.0 * 1.003])
    prompt = np.concatenate([A, B, sharp])
    lib = [prompt]
    match, meets = match_continuation(prompt, RATE, lib, [mel_frames(prompt, RATE)], RATE, lambda c, m: np.zeros(m))
    assert meets < SEAMLESS
    guess = make_guide("match", RATE, lib)(prompt, RATE)
    prediction = lpc_continuation(prompt, RATE)
    a, b = int(BRIDGE_S[0] * RATE), int(BRIDGE_S[1] * RATE)
    assert np.allclose(guess[:a], prediction[:a], atol=1e-6)
    where, how = found_at(guess[b:], prompt)  # B's second half, moved by the alignment within a hop
    assert how > 0.99 and abs(where - (RATE + b)) <= 256
    assert np.allclose(bridged(np.ones(8), np.zeros(8), 2, 4), [1, 1, 1, 0.5**0.5, 0, 0, 0, 0])  # equal power
    quiet = make_guide("match", RATE, lib)(0.5 * prompt, RATE)  # a query 6 dB under the library: not rescaled
    assert 0.95 < np.std(quiet[b:]) / np.std(NEXT[b:]) < 1.05
    exact, meets = match_continuation(PROMPT, RATE, [PROMPT], [mel_frames(PROMPT, RATE)], RATE, lambda c, m: np.zeros(m))
    assert meets > 0.99 and np.allclose(make_guide("match", RATE, [PROMPT])(PROMPT, RATE), exact, atol=1e-6)


def test_a_long_guess_chains_matches_and_a_short_library_leaves_it_to_the_prediction():
    """Past the library's end the search runs again from the guess, so 3 s continue A B A B A B;
    a library shorter than two queries has no lag, and a silent query gives the fallback."""
    guess, _ = match_continuation(PROMPT, 3 * RATE, [PROMPT], [mel_frames(PROMPT, RATE)], RATE, lambda c, m: np.zeros(m))
    assert corr(guess, np.concatenate([B, A, B])) > 0.95
    short = PROMPT[: int(1.5 * QUERY_S * RATE)]
    marker = np.full(RATE, 0.125)
    assert np.array_equal(match_continuation(short, RATE, [short], [mel_frames(short, RATE)], RATE,
                                             lambda c, m: marker[:m])[0], marker.astype(np.float32))
    silent = np.zeros(2 * RATE)
    assert np.array_equal(match_continuation(silent, RATE, [PROMPT], [mel_frames(PROMPT, RATE)], RATE,
                                             lambda c, m: marker[:m])[0], marker.astype(np.float32))


def test_a_gap_is_guessed_from_both_sides_of_the_library():
    """A B A [B A] B A: past the bridges, the forward guess from the left and the reversed
    library's guess from the right both find B A, and no sample of the gap is in either library."""
    audio = np.concatenate([A, B, A, B, A, B, A])
    left, right = audio[: 3 * RATE], audio[5 * RATE :]
    kept = [left, right]
    forward = make_guide("match", RATE, kept)
    backward = make_guide("match", RATE, [s[::-1] for s in kept])
    guess = two_sided(forward, left, right, 2 * RATE, backward)
    middle = slice(RATE // 2, 3 * RATE // 2)  # both sides' bridges are over
    assert corr(guess[middle], np.concatenate([B, A])[middle]) > 0.95


def test_the_engine_runs_the_match_guide():
    """extend, inpaint and loop take guide="match": the input stays bit-exact."""
    ex = Extender(tiny_model())
    fast = dict(steps=10, new=0.25, context=2.0, guide="match", strength=0.2)
    out = ex.extend(PROMPT, RATE, 0.5, **fast)
    assert out.shape == (len(PROMPT) + RATE // 2,) and np.array_equal(out[: len(PROMPT)], PROMPT)
    audio = np.concatenate([A, B, A, B, A, B])
    fixed = ex.inpaint(audio, RATE, [(3.25, 3.5)], **fast)
    assert np.array_equal(fixed[: 26000], audio[: 26000]) and np.array_equal(fixed[28000:], audio[28000:])
    assert not np.array_equal(fixed, audio)


def test_a_runner_up_is_another_passage():
    """Library A B A C A, query the last A: both earlier A's match; rank 0 and rank 1 are the two of
    them (a query length apart, not the best lag shifted by a hop), so one guess is B and the other
    C; a rank past the list wraps around it."""
    C = phrase([220.0, 247.0, 277.0, 196.0])
    lib = np.concatenate([A, B, A, C, A])
    feats = [mel_frames(lib, RATE)]
    ranked = [best_match(lib[-RATE:], [lib], feats, RATE, RATE, rank) for rank in (0, 1)]
    assert sorted(m.offset for m in ranked) == [0, 2 * RATE] and min(m.score for m in ranked) > 0.99
    guesses = [match_continuation(lib, RATE, [lib], feats, RATE, lambda c, m: np.zeros(m), rank)[0] for rank in (0, 1)]
    assert sorted(max(corr(g, B), corr(g, C)) for g in guesses)[0] > 0.99
    assert {corr(g, B) > 0.99 for g in guesses} == {True, False}
    assert best_match(lib[-RATE:], [lib], feats, RATE, RATE, 1000) is not None


def test_match_candidates_start_on_different_passages():
    """--candidates with the match guide: candidate c's first frame replays the c-th passage, so of
    two candidates after A B A C A, past the bridge one plays on as B and the other as C."""
    C = phrase([220.0, 247.0, 277.0, 196.0])
    prompt = np.concatenate([A, B, A, C, A])
    ex = Extender(tiny_model())
    cands = ex.candidates(prompt, RATE, 1.0, 2, guide="match", steps=10, new=1.0, context=2.0, strength=0.05)
    tails = [c.audio[len(prompt) + RATE // 2 :] for c in cands]  # [0.5, 1) s: BRIDGE_S is over
    which = [corr(t, B[RATE // 2 :]) > corr(t, C[RATE // 2 :]) for t in tails]
    assert sorted(which) == [False, True]
    assert max(abs(corr(t, x[RATE // 2 :])) for t in tails for x in (B, C)) > 0.7
