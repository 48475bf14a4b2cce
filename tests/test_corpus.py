"""Corpus builder: one real score rendered to piano with FluidSynth."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from diffwave.corpus import Job, find_soundfont, plan_jobs, render_job, split_of

needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")


@needs_fluidsynth
def test_render_one_chorale_part(tmp_path):
    """A Bach chorale melody renders to mono 16 kHz piano of the expected length, not silent."""
    pytest.importorskip("music21")
    from music21 import corpus

    path = str(corpus.getWork("bach/bwv66.6"))
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    row = render_job(Job("bach/bwv66.6", path, 0, tempo_bpm=120.0, velocity=80, transpose=2), tmp_path, 16000, find_soundfont())
    assert row is not None and row["piece_id"] == "bach/bwv66.6"
    audio, rate = sf.read(tmp_path / row["file"])
    assert rate == 16000 and audio.ndim == 1
    # 36 quarter notes at 120 bpm = 18 s, give or take the release tail and trimmed silence
    assert 15.0 < len(audio) / rate < 21.0
    assert row["duration_s"] == pytest.approx(len(audio) / rate, abs=1e-3)
    rms = float(np.sqrt(np.mean(audio**2)))
    assert rms == pytest.approx(0.1, rel=0.1)
    assert "MIT" in row["license"] and row["soundfont"] == "FluidR3_GM.sf2"


def test_split_is_by_piece_and_deterministic():
    """Every part of a piece lands in the same split, and the split never changes."""
    assert split_of("bach/bwv66.6") == split_of("bach/bwv66.6")
    pytest.importorskip("music21")
    jobs = plan_jobs(seed=0)
    by_piece = {}
    for job in jobs[:400]:
        by_piece.setdefault(job.piece_id, set()).add(split_of(job.piece_id))
    assert all(len(s) == 1 for s in by_piece.values())
    assert plan_jobs(seed=0)[:20] == jobs[:20]
    assert {split_of(j.piece_id) for j in jobs} == {"train", "val"}
