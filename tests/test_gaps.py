"""Gap inpainting: only the gap changes, both sides are seen, bad gaps are one line."""

import numpy as np
import pytest
import torch

from diffwave.io.errors import UserError
from diffwave.schedule import make_schedule
from extend import Extender
from extend.frames import plan_frames
from extend.gaps import fill_gap
from extend.samplers import SAMPLERS

from .conftest import TINY, piano_like, sampler_case, tiny_model

FAST = dict(steps=4, new=0.05, context=0.2)


@pytest.fixture(scope="module")
def ex():
    return Extender(tiny_model())


def test_only_the_gaps_change_bit_for_bit(ex):
    """Mono at the model rate and stereo at 44.1 kHz: every sample outside the gaps is the input's."""
    audio = piano_like(0.6, 8000)
    out = ex.inpaint(audio, 8000, [(0.4, 0.45), (0.2, 0.3)], **FAST)
    assert out.shape == audio.shape and out.dtype == np.float64
    keep = np.ones(len(audio), bool)
    keep[1600:2400] = keep[3200:3600] = False
    assert np.array_equal(out[keep], audio[keep]) and not np.allclose(out[~keep], audio[~keep])
    stereo = np.stack([audio, -0.5 * audio], axis=1)
    out2 = ex.inpaint(stereo, 44100, [(0.05, 0.08)], **FAST)
    s, e = round(0.05 * 44100), round(0.08 * 44100)
    assert np.array_equal(out2[:s], stereo[:s]) and np.array_equal(out2[e:], stereo[e:])
    assert np.isfinite(out2).all() and np.abs(out2).max() <= 1.0
    again = ex.inpaint(audio, 8000, [(0.2, 0.3), (0.4, 0.45)], **FAST)
    assert np.array_equal(out, again)  # a function of the seed


def test_a_long_gap_is_filled_in_chunks_and_the_last_sees_the_right_side():
    """Chunks of plan.new samples, left to right; only the last frame holds known audio after the gap."""
    model = tiny_model()
    plan = plan_frames(model, 0.1, 0.02)  # 160-sample chunks at 8 kHz
    frames = []

    def spy(model, noise, known, mask, schedule, generator, callback=None):
        frames.append(mask.clone())
        return known + (1 - mask) * 0.1

    audio = piano_like(0.5, 8000).astype(np.float32)
    out = fill_gap(model, audio, 1000, 1400, spy, make_schedule(TINY, 3), plan)
    assert len(frames) == 3  # 160 + 160 + 80
    gap_at = [torch.nonzero(m == 0).flatten() for m in frames]
    assert [len(g) for g in gap_at] == [160, 160, 80]
    assert all(int(g[-1]) == len(m) - 1 for g, m in zip(gap_at[:2], frames[:2]))  # nothing known after them
    assert int(gap_at[2][-1]) < len(frames[2]) - 1 and frames[2][-1] == 1  # the last frame sees the right side
    assert np.array_equal(out[:1000], audio[:1000]) and np.array_equal(out[1400:], audio[1400:])


def test_every_sampler_fills_a_gap(ex):
    """Each sampler an ordinary model runs works on gaps, not just at the end."""
    from extend.samplers import usable

    audio = piano_like(0.4, 8000)
    for name in usable(TINY):
        opts = sampler_case(name)
        out = ex.inpaint(audio, 8000, [(0.1, 0.15)], sampler=name, **FAST, **opts)
        assert np.array_equal(out[:800], audio[:800]) and np.array_equal(out[1200:], audio[1200:]), name
    assert "forcing" in SAMPLERS


@pytest.mark.parametrize("gaps,message", [
    ([(0.5, 0.7)], "not inside the audio"),
    ([(-0.1, 0.1)], "not inside the audio"),
    ([(0.2, 0.2)], "not inside the audio"),
    ([(0.2, 0.20001)], "shorter than one sample"),
    ([(0.1, 0.2), (0.15, 0.3)], "overlap"),
    ([(0.0, 0.6)], "cover the whole audio"),
    ([(0.0, 0.3), (0.3, 0.6)], "cover the whole audio"),
    ([], "at least one gap"),
    ([(0.1,)], "(start, end) pairs"),
    ([(0.1, float("nan"))], "must be numbers"),
])
def test_bad_gaps_are_one_line(ex, gaps, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ex.inpaint(piano_like(0.6, 8000), 8000, gaps, **FAST)


def test_a_gap_over_the_limit_is_refused(ex, monkeypatch):
    import extend.gaps

    monkeypatch.setattr(extend.gaps, "MAX_GAP_S", 0.05)
    with pytest.raises(UserError, match="longer than 0.05 s"):
        ex.inpaint(piano_like(0.6, 8000), 8000, [(0.1, 0.2)], **FAST)


def test_loop_inpaints_across_the_wrap_only(ex):
    """loop(): same length and layout; only the seam / 2 at each end changes (the wrap lies inside
    generated audio); a seam over half the clip is one line."""
    audio = piano_like(0.6, 8000)
    out = ex.loop(audio, 8000, 0.1, **FAST)
    assert out.shape == audio.shape
    assert np.array_equal(out[400:-400], audio[400:-400]) and not np.array_equal(out[:400], audio[:400])
    stereo = np.stack([audio, audio], axis=1)
    assert ex.loop(stereo, 8000, 0.1, **FAST).shape == stereo.shape
    with pytest.raises(UserError, match="the loop seam must be"):
        ex.loop(audio, 8000, 0.5, **FAST)


def test_candidates_are_one_batch_ranked_by_the_seam(ex):
    """K continuations, each with the input bit-exact; candidate c starts from seed + c's noise; best seam first."""
    audio = piano_like(0.4, 8000)
    cands = ex.candidates(audio, 8000, 0.1, 3, seed=5, **FAST)
    assert sorted(c.seed for c in cands) == [5, 6, 7]
    assert [c.seam_db for c in cands] == sorted(c.seam_db for c in cands)
    for c in cands:
        assert c.audio.shape == (len(audio) + 800,) and np.array_equal(c.audio[: len(audio)], audio)
    assert not np.array_equal(cands[0].audio, cands[1].audio)
    one = ex.candidates(audio, 8000, 0.1, 1, seed=5, **FAST)[0]
    assert np.array_equal(one.audio, ex.extend(audio, 8000, 0.1, seed=5, **FAST))  # K = 1 is extend
    with pytest.raises(UserError, match="candidates must be an integer from 1 to 16"):
        ex.candidates(audio, 8000, 0.1, 0, **FAST)


def test_a_continuation_that_loops_back_to_the_prompt(ex):
    """loop(seconds=N): the input bit-exact, then N s of continuation whose last `seam` s are inpainted
    against the input's start; the rest of the continuation is extend()'s."""
    audio = piano_like(0.4, 8000)
    out = ex.loop(audio, 8000, 0.05, seconds=0.2, **FAST)
    plain = ex.extend(audio, 8000, 0.2, **FAST)
    n = len(audio)
    assert out.shape == (n + 1600,) and np.array_equal(out[:n], audio)
    assert np.array_equal(out[: n + 1200], plain[: n + 1200]) and not np.array_equal(out[n + 1200 :], plain[n + 1200 :])
    with pytest.raises(UserError, match="the loop seam must be"):
        ex.loop(audio, 8000, 0.3, seconds=0.2, **FAST)


def test_touching_gaps_are_one_gap():
    from extend.gaps import gap_samples

    assert gap_samples([(0.2, 0.3), (0.1, 0.2), (0.4, 0.5)], 10, 10) == [(1, 3), (4, 5)]
