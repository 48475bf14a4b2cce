"""Benchmark measures on constructed signals with known answers."""

import numpy as np
import pytest

from benchmarks.metrics import (
    click_score,
    frechet_distance,
    has_click,
    ks,
    pitch_accuracy,
    seam_flux_ratio,
    seam_pitch_jump_cents,
    seed_echo,
    yin,
)

RATE = 16000


def _tone(seconds, f=220.0, phase=0.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * f * t + phase) + 0.1 * np.sin(2 * np.pi * 2 * f * t + phase)


def test_ks_small_for_identical_distributions_large_for_different():
    """Same distribution: small statistic, large p; shifted distribution: large statistic."""
    rng = np.random.default_rng(0)
    stat, p = ks(rng.normal(size=4000), rng.normal(size=4000))
    assert stat < 0.05 and p > 0.01
    stat, p = ks(rng.normal(size=4000), rng.normal(1.0, size=4000))
    assert stat > 0.3 and p < 1e-10


def test_planted_click_scores_worse_than_a_smooth_seam():
    """A continuous tone has no click at its 'seam'; a phase jump there is detected."""
    smooth = _tone(2.0)
    seam = RATE
    clicked = np.concatenate([_tone(1.0), _tone(1.0, phase=np.pi)])
    assert click_score(smooth, seam, RATE) < 2.0 and not has_click(smooth, seam, RATE)
    assert has_click(clicked, seam, RATE)
    assert seam_flux_ratio(clicked, seam, RATE) > seam_flux_ratio(smooth, seam, RATE)


def test_pitch_accuracy_and_seam_jump():
    """Within 3 % counts, outside does not; a fifth up across the seam is ~702 cents."""
    f0 = np.array([100.0, 102.0, 110.0, 100.0])
    ref = np.full(4, 100.0)
    voiced = np.array([True, True, True, False])
    assert pitch_accuracy(f0, ref, voiced, np.ones(4, bool), min_frames=1) == pytest.approx(2 / 3)
    assert np.isnan(pitch_accuracy(f0, ref, voiced, np.ones(4, bool)))  # 3 frames are too few to score
    assert np.isnan(pitch_accuracy(f0, ref, np.zeros(4, bool), voiced))
    track = np.concatenate([np.full(20, 200.0), np.full(20, 300.0)])
    assert seam_pitch_jump_cents(track, np.ones(40, bool), 20) == pytest.approx(701.96, abs=0.1)


def test_yin_finds_a_known_pitch():
    """librosa YIN with the paper's settings tracks a 220 Hz tone."""
    assert np.median(yin(_tone(1.0), RATE)) == pytest.approx(220.0, rel=0.02)


def test_frechet_distance_zero_for_same_data_positive_for_shift():
    """FD(a, a) ~ 0, and a mean shift of 1 in each of D dims adds about D."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2000, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(4.0, rel=0.05)


def test_crepe_pitch_is_deterministic_and_on_pitch():
    """torchcrepe dithers its pitch with a global RNG; ours is the bin centre, the same every run."""
    from benchmarks import crepe

    tone = _tone(1.0, f=440.0).astype(np.float32)
    f0, periodicity = crepe.pitch(tone, RATE)
    again, _ = crepe.pitch(tone, RATE)
    np.testing.assert_array_equal(f0, again)
    voiced = periodicity > 0.5
    assert voiced.mean() > 0.8
    assert np.all(np.abs(1200 * np.log2(f0[voiced] / 440.0)) < 20.0)  # within one bin


def test_crepe_leaves_no_torchaudio_stand_in_behind():
    """Loading torchcrepe does not leave an empty 'torchaudio' module in sys.modules."""
    import sys

    from benchmarks import crepe

    crepe.load_torchcrepe()
    mod = sys.modules.get("torchaudio")
    assert mod is None or hasattr(mod, "load")  # absent, or the real torchaudio


def test_seed_echo_is_one_for_one_waveform_whatever_the_prompt_and_small_for_real_continuations():
    """The same waveform at three gains echoes 1; independent noise and the reference clips' real
    next seconds echo near 0; a silent run scores 0; one run has nothing to echo (NaN)."""
    from benchmarks.common import clips

    rng = np.random.default_rng(0)
    y = rng.standard_normal(8000)
    assert seed_echo(np.stack([y, 0.1 * y, 3.0 * y])) == pytest.approx([1.0] * 3)
    same = np.random.default_rng(1).standard_normal(8000)
    assert np.all(np.abs(seed_echo(np.stack([same, same]))) <= 1.0)  # unclipped, rounding gives 1 + 2e-16 here
    assert np.all(np.abs(seed_echo(rng.standard_normal((4, 8000)))) < 0.05)
    assert seed_echo(np.stack([y, y, np.zeros(8000)])) == pytest.approx([0.5, 0.5, 0.0])  # median of (1, 0), and of (0, 0)
    assert np.isnan(seed_echo(y[None])).all()
    real = np.stack([x[5 * RATE : 6 * RATE] for _, x in clips(None, RATE)])  # [8 clips, 1 s]
    assert np.all(np.abs(seed_echo(real)) < 0.05)
