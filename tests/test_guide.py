"""The linear-prediction guide: the guess itself, the shortened schedule, the guessed start, the engine."""

import numpy as np
import pytest
import torch

from diffwave.config import ModelConfig
from diffwave.io.errors import UserError
from diffwave.schedule import make_schedule
from extend import Extender
from extend.guide import lpc_continuation, make_guide
from extend.samplers import start

from .conftest import piano_like, tiny_model

RATE = 8000
FAST = dict(steps=10, new=0.1, context=0.5)


def decaying_partials(n: int, rate: int = RATE) -> np.ndarray:
    """Two decaying partials (220 and 660 Hz): an all-pole signal. float64 [n]"""
    t = np.arange(n) / rate
    return 0.3 * np.exp(-2.0 * t) * np.sin(2 * np.pi * 220 * t) + 0.1 * np.exp(-4.0 * t) * np.sin(2 * np.pi * 660 * t + 1.0)


def test_lpc_continues_decaying_partials_with_their_decay():
    """Decaying partials are continued closely, with their pitch and about their decay (Burg's
    fit assumes a stationary context, so a decay is estimated, not exact)."""
    x = decaying_partials(6000)
    guess, real = lpc_continuation(x[:4000], 2000, order=1024), x[4000:]
    assert guess.dtype == np.float32 and guess.shape == (2000,)

    def error(a, b):
        return np.sqrt(np.mean((guess[a:b] - real[a:b]) ** 2)) / np.sqrt(np.mean(real[a:b] ** 2))

    assert error(0, 400) < 0.02 and error(400, 2000) < 0.15  # measured 0.006 and 0.071
    # the decay is kept, not frozen: the last 0.1 s is quieter than the first, as in the signal (0.74)
    assert np.std(guess[-800:]) < 0.85 * np.std(guess[:800])


def test_lpc_of_a_pure_tone_and_of_silence_is_finite():
    """A context that order p predicts exactly (Burg's error power reaches 0) is refitted lower, not NaN."""
    tone = np.sin(2 * np.pi * 440 * np.arange(8000) / RATE)
    guess = lpc_continuation(tone, 800, order=1024)
    assert np.all(np.isfinite(guess))
    assert np.corrcoef(guess, np.sin(2 * np.pi * 440 * np.arange(8000, 8800) / RATE))[0, 1] > 0.99
    assert not np.any(lpc_continuation(np.zeros(4000), 100))
    assert not np.any(lpc_continuation(np.ones(3) * 0.1, 100))  # too short for any order: silence
    partials = decaying_partials(4800).astype(np.float32)  # float32: Burg's fit is NaN at every order here
    guess = lpc_continuation(partials[:4000], 800, order=1000)
    assert np.corrcoef(guess, partials[4000:])[0, 1] > 0.99


def test_unknown_guide_is_a_value_error():
    assert make_guide("none", RATE) is None
    with pytest.raises(ValueError, match="unknown guide 'nope'"):
        make_guide("nope", RATE)


def test_lowest_keeps_the_least_noisy_levels():
    full = make_schedule(ModelConfig(), 50)
    low = full.lowest(10)
    assert len(low) == 10
    assert torch.equal(low.alpha_bars, full.alpha_bars[:10]) and torch.equal(low.model_steps, full.model_steps[:10])
    for bad in (0, 51):
        with pytest.raises(ValueError, match="between 1 and 50"):
            full.lowest(bad)


def test_start_is_q_of_the_guess_where_the_mask_is_zero():
    """x_T = sqrt(abar_T) known + sqrt(1 - abar_T) noise everywhere: the known audio where mask is 1,
    the guess where it is 0 (0 without one, as before the guide existed)."""
    schedule = make_schedule(ModelConfig(), 50).lowest(10)
    abar = float(schedule.alpha_bars[-1])
    noise, known = torch.randn(2, 64, generator=torch.Generator().manual_seed(0)), torch.full((2, 64), 0.5)
    mask = torch.zeros(64)
    mask[:32] = 1.0
    x = start(noise, known, mask, schedule)
    assert torch.allclose(x, abar**0.5 * known + (1 - abar) ** 0.5 * noise)
    no_guess = start(noise, known * mask, mask, schedule)
    assert torch.equal(no_guess[:, 32:], (1 - abar) ** 0.5 * noise[:, 32:])


@pytest.fixture
def ex():
    return Extender(tiny_model())


def test_a_light_strength_returns_the_guess_refined():
    """At strength 1/S one reverse step runs from the guess noised to the lowest level, so the new
    audio is the guess up to that noise: the guide reaches the output. Without it, it does not."""
    class Zero(torch.nn.Module):  # eps = 0: x0 = x / sqrt(abar), the guess comes through
        config = tiny_model().config
        receptive_field = 1

        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x, t):
            return torch.zeros_like(x)

    audio = decaying_partials(4800).astype(np.float32)
    guess = make_guide("lpc", RATE)(audio[:4000], 800)
    ex = Extender(Zero())
    out = ex.extend(audio[:4000], RATE, 0.1, steps=10, new=0.1, context=0.5, guide="lpc", strength=0.1)[4000:]
    assert np.corrcoef(out, guess)[0, 1] > 0.95  # measured 0.989: the lowest level's noise and the seam fade
    plain = ex.extend(audio[:4000], RATE, 0.1, steps=10, new=0.1, context=0.5)[4000:]
    assert abs(np.corrcoef(plain, guess)[0, 1]) < 0.5


def test_guided_extension_keeps_the_prefix_runs_fewer_steps_and_repeats(ex):
    audio = piano_like(0.6, RATE)
    steps = []
    out = ex.extend(audio, RATE, 0.25, guide="lpc", strength=0.3, **FAST)
    assert out.shape == (len(audio) + 2000,) and np.array_equal(out[: len(audio)], audio)
    list(ex.stream(audio, RATE, 0.1, on_step=lambda f, info: steps.append(info["n"]), guide="lpc", strength=0.3, **FAST))
    assert steps == [2, 1, 0]  # 3 of 10 steps, the least noisy
    again = ex.extend(audio, RATE, 0.25, guide="lpc", strength=0.3, **FAST)
    assert np.array_equal(out, again)
    best = ex.candidates(audio, RATE, 0.1, count=2, guide="lpc", strength=0.3, **FAST)
    assert len(best) == 2 and all(np.array_equal(c.audio[: len(audio)], audio) for c in best)


def test_two_sided_guess_fades_from_the_left_guess_to_the_right_one():
    """Between two different tones the guess starts as the left one's continuation and ends as the
    right one's run backwards; with one side it is that side's guess alone."""
    from extend.guide import two_sided

    t = np.arange(4000) / RATE
    left, right = np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 500 * (t + 1.0))
    guide = make_guide("lpc", RATE)
    guess = two_sided(guide, left, right, 800)
    gap_t = np.arange(4000, 4800) / RATE
    assert np.corrcoef(guess[:80], np.sin(2 * np.pi * 300 * gap_t[:80]))[0, 1] > 0.95
    before_right = np.sin(2 * np.pi * 500 * ((np.arange(800) - 800) / RATE + 1.0))  # the right tone, run back
    assert np.corrcoef(guess[-80:], before_right[-80:])[0, 1] > 0.95
    assert np.array_equal(two_sided(guide, left, right[:0], 800), guide(left, 800))
    assert not np.any(two_sided(guide, left[:0], right[:0], 10))


def test_inpaint_and_loop_take_the_guide(ex):
    """A gap is filled from the two-sided guess (fewer steps, the rest bit-exact); a loop guides
    both its continuation and its wrap."""
    audio = piano_like(0.8, RATE)
    fixed = ex.inpaint(audio, RATE, [(0.3, 0.4)], guide="lpc", strength=0.3, **FAST)
    assert np.array_equal(fixed[:2400], audio[:2400]) and np.array_equal(fixed[3200:], audio[3200:])
    assert not np.array_equal(fixed, ex.inpaint(audio, RATE, [(0.3, 0.4)], **FAST))
    looped = ex.loop(audio, RATE, seam=0.1, seconds=0.3, guide="lpc", strength=0.3, **FAST)
    assert looped.shape == (len(audio) + 2400,) and np.array_equal(looped[: len(audio)], audio)


@pytest.mark.parametrize("bad, message", [
    (dict(strength=0.0), "strength must be a number in"),
    (dict(strength=1.5, guide="lpc"), "strength must be a number in"),
    (dict(strength=float("nan"), guide="lpc"), "strength must be a number in"),
    (dict(guide="nope"), "unknown guide 'nope'; choose one of none, lpc, match"),
    (dict(strength=0.5), "strength below 1 starts from a guess"),
])
def test_bad_guide_options_are_one_line_errors(ex, bad, message):
    with pytest.raises(UserError, match=message):
        ex.extend(piano_like(0.2, RATE), RATE, 0.1, **{**FAST, **bad})


def test_candidates_share_one_fit_in_their_first_frame(ex, monkeypatch):
    """K candidates start from one context, so their first frame fits it once, not K times (a Burg
    fit costs 0.3-0.6 s); the guesses are those of a fresh fit, and a new context is fitted anew."""
    import extend.guide as guide_module

    fits = []
    real = guide_module.lpc_continuation
    monkeypatch.setattr(guide_module, "lpc_continuation", lambda *a, **k: fits.append(1) or real(*a, **k))
    audio = piano_like(0.6, RATE)
    for name in ("lpc", "match"):
        fits.clear()
        ex.candidates(audio, RATE, 0.1, count=3, guide=name, strength=0.3, **FAST)
        assert len(fits) == 1, name
    guide = make_guide("lpc", RATE)
    first = guide(audio, 400)
    first[:] = 0.0  # a caller's edit does not reach the next caller
    assert np.array_equal(guide(audio, 400), real(audio, 400))
    assert len(fits) == 2 and np.array_equal(guide(audio[:-1], 400), real(audio[:-1], 400)) and len(fits) == 3
