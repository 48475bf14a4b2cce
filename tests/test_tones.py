"""The positive-control tone corpus: deterministic, at the corpus level, pitches where it says."""

import csv

import numpy as np
import pytest
import soundfile as sf

from benchmarks.metrics import yin
from benchmarks.tones import F0_RANGE, MANIFEST, TARGET_RMS, main, note_sequence, write_corpus
from diffwave.io.errors import UserError

RATE = 16000


def test_note_sequence_level_and_notes_in_range():
    audio, notes = note_sequence(20.0, RATE, np.random.default_rng(1))
    assert audio.dtype == np.float32 and audio.shape == (20 * RATE,)
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) == pytest.approx(TARGET_RMS, rel=0.02)
    assert np.abs(audio).max() <= 0.95 + 1e-6
    assert len(notes) >= 20 * 1 / 2.5 and all(F0_RANGE[0] <= n["f0_hz"] <= F0_RANGE[1] for n in notes)
    assert all(b["onset_s"] - a["onset_s"] >= 0.6 - 1e-3 for a, b in zip(notes, notes[1:]))


def test_the_manifest_pitch_is_the_pitch_heard():
    """Just after each onset the new note dominates: YIN finds the manifest's f0 (within a
    quarter tone) for most notes. A wrong f0 or onset in the manifest fails this."""
    audio, notes = note_sequence(30.0, RATE, np.random.default_rng(2))
    track, hits = yin(audio, RATE), 0  # one frame per 10 ms
    for n in notes[:-1]:
        f0 = np.median(track[int(n["onset_s"] * 100) + 5 : int(n["onset_s"] * 100) + 25])
        hits += bool(abs(1200 * np.log2(f0 / n["f0_hz"])) < 50)
    assert hits >= 0.7 * (len(notes) - 1)


def test_write_corpus_is_deterministic_and_refuses_a_foreign_folder(tmp_path):
    a = write_corpus(tmp_path / "a", minutes=0.5, seed=3, file_seconds=10.0)
    b = write_corpus(tmp_path / "b", minutes=0.5, seed=3, file_seconds=10.0)
    assert len(a) == 3
    assert all(np.array_equal(sf.read(x)[0], sf.read(y)[0]) for x, y in zip(a, b))
    rows = list(csv.DictReader(open(tmp_path / "a" / MANIFEST)))
    assert {r["file"] for r in rows} == {p.name for p in a}
    write_corpus(tmp_path / "a", minutes=0.5, seed=4, file_seconds=10.0)  # its own folder: rewritten
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        write_corpus(foreign, minutes=0.5)
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]


def test_bad_minutes_is_one_error_line(tmp_path):
    with pytest.raises(UserError, match="positive"):
        main(["corpus", str(tmp_path / "t"), "--minutes", "0"])
    assert not (tmp_path / "t").exists()


def test_figure_smoke(tmp_path, capsys):
    """benchmarks.tones figure draws continuations and samples for each model."""
    main(["figure", str(tmp_path / "f"), "--models", "tiny", "--steps", "3"])
    assert all((tmp_path / "f" / n).stat().st_size > 1000 for n in ("continuations.png", "samples.png"))
    assert capsys.readouterr().out.count("wrote") == 2


def test_oracle_wiener_on_signals_with_known_answers():
    """A bin-centred sinusoid keeps only its own bin's noise: power 0.5 against 2 sigma^2 / n,
    SNR n / (4 sigma^2), 26.5 dB here against -9.5 dB unfiltered. For white x0 of unit variance
    a bin's power is u n with u ~ Exp(1) and its expected error u n s / (u + s), s = sigma^2, so
    the SNR is -10 log10(E[s u / (u + s)]) = -10 log10(s (1 - s e^s E1(s))): 0.81 dB at s = 9."""
    from scipy.special import exp1

    from benchmarks.tones import oracle_wiener_snr

    rng = np.random.default_rng(0)
    n, abar = 16000, 0.1  # sigma^2 = 9: -9.5 dB before filtering
    tone = np.sin(2 * np.pi * 440 * np.arange(n) / RATE)[None]
    assert oracle_wiener_snr(tone, abar, rng) == pytest.approx(10 * np.log10(n / (4 * 9)), abs=1.0)
    white = rng.standard_normal((4, n))
    expected = -10 * np.log10(9 * (1 - 9 * np.exp(9) * exp1(9)))
    assert oracle_wiener_snr(white, abar, rng) == pytest.approx(expected, abs=0.1)


def test_denoise_smoke(capsys):
    main(["denoise", "--models", "tiny"])
    out = capsys.readouterr().out
    assert "oracle Wiener" in out and "fresh tones" in out and "piano reference clips" in out


def test_sines_family_is_one_steady_sinusoid_at_a_time():
    """`sines`: one partial, no decay, each note cut at the next onset. Mid-note YIN reads the
    manifest's f0, the level within a note is flat, and the corpus level holds."""
    from benchmarks.tones import FAMILIES

    audio, notes = note_sequence(20.0, RATE, np.random.default_rng(5), FAMILIES["sines"])
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) == pytest.approx(TARGET_RMS, rel=0.02)
    track = yin(audio, RATE)
    for a, b in zip(notes, notes[1:]):
        mid = slice(int(a["onset_s"] * 100) + 10, int(b["onset_s"] * 100) - 10)
        assert np.all(np.abs(1200 * np.log2(track[mid] / a["f0_hz"])) < 25)  # no earlier note rings on
        lo, hi = int(a["onset_s"] * RATE) + 800, int(b["onset_s"] * RATE) - 800
        halves = np.array_split(audio[lo:hi].astype(np.float64), 2)
        assert np.sqrt(np.mean(halves[1] ** 2)) == pytest.approx(np.sqrt(np.mean(halves[0] ** 2)), rel=0.05)


def test_an_unknown_family_is_one_error_line(tmp_path):
    with pytest.raises(UserError, match="unknown tone family 'saw'"):
        main(["corpus", str(tmp_path / "t"), "--family", "saw"])
    with pytest.raises(UserError, match="unknown tone family"):
        main(["denoise", "--models", "tiny", "--family", "saw"])
    assert not (tmp_path / "t").exists()


def test_family_prompt_sines_holds_its_pitch_across_the_seam():
    from benchmarks.continuation import PROMPT_S
    from benchmarks.tones import family_prompt

    x = family_prompt(440.0, RATE, "sines")
    assert x.shape == (6 * RATE,)
    after = yin(x[int(PROMPT_S * RATE):], RATE)[5:-5]
    before = yin(x[: int(3.4 * RATE)], RATE)[5:-5]
    assert np.all(np.abs(1200 * np.log2(after / 440.0)) < 10)
    assert np.all(np.abs(1200 * np.log2(before / (440.0 * 2 ** (-5 / 12)))) < 10)


def test_a_fixed_wiener_filter_on_white_audio_and_on_a_known_sinusoid():
    """With a flat spectrum P_k = n (white x0, unit variance) the fixed filter is G = 1 / (1 + s)
    and its SNR 10 log10((1 + s) / s): 0.46 dB at s = 9. Told the sinusoid's own spectrum it
    matches the oracle; told a flat one it cannot find the tone."""
    from benchmarks.tones import family_power, oracle_wiener_snr

    n, abar = 16000, 0.1
    white = np.random.default_rng(1).standard_normal((4, n))
    flat = np.full(n // 2 + 1, float(n))
    assert oracle_wiener_snr(white, abar, np.random.default_rng(0), flat) == pytest.approx(10 * np.log10(10 / 9), abs=0.05)
    tone = np.sin(2 * np.pi * 440 * np.arange(n) / RATE)[None]
    own = np.abs(np.fft.rfft(tone, axis=1))[0] ** 2
    assert oracle_wiener_snr(tone, abar, np.random.default_rng(0), own) == pytest.approx(
        oracle_wiener_snr(tone, abar, np.random.default_rng(0)), abs=1e-9)
    assert oracle_wiener_snr(tone, abar, np.random.default_rng(0), flat) < 1.0
    power = family_power("sines", RATE, 1600, 4.0, draws=1)
    assert power.shape == (801,) and np.argmax(power) * RATE / 1600 < 1400  # the energy sits below the top f0


def test_denoise_smoke_on_the_sines_family(capsys):
    main(["denoise", "--models", "tiny", "--family", "sines"])
    out = capsys.readouterr().out
    assert "fresh tones (sines)" in out and "fixed Wiener" in out


def test_spectral_subtraction_finds_a_sinusoid_that_plain_subtraction_loses_in_musical_noise():
    """Knowing only the noise level, the thresholded denoiser comes within 6 dB of the oracle on a
    bin-centred sinusoid at -9.5 dB broadband SNR (21.8 against 26.4 dB); with the threshold at 1
    (plain spectral subtraction) the noise bins that pass swamp it (-5.9 dB)."""
    from benchmarks.tones import oracle_wiener_snr, subtraction_wiener_snr

    n, abar = 16000, 0.1
    tone = np.sin(2 * np.pi * 440 * np.arange(n) / RATE)[None]
    oracle = oracle_wiener_snr(tone, abar, np.random.default_rng(0))
    found = subtraction_wiener_snr(tone, abar, np.random.default_rng(0))
    assert oracle - 6 < found < oracle
    assert subtraction_wiener_snr(tone, abar, np.random.default_rng(0), threshold=1.0) < found - 20
