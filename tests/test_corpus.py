"""Corpus builder: one real score rendered to piano with FluidSynth."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from diffwave.io.errors import UserError
from diffwave.training.corpus import RenderJob, build_corpus, find_soundfont, plan_jobs, render_job, split_of

needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")


@needs_fluidsynth
def test_render_one_chorale_part(tmp_path):
    """A Bach chorale melody renders to mono 16 kHz piano of the expected length, not silent."""
    pytest.importorskip("music21")
    from music21 import corpus

    path = str(corpus.getWork("bach/bwv66.6"))
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    row = render_job(RenderJob("bach/bwv66.6", path, 0, tempo_bpm=120.0, velocity=80, transpose=2), tmp_path, 16000, find_soundfont())
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


@pytest.mark.parametrize("options, message", [
    ({"hours": 0}, "--hours"), ({"hours": -1}, "--hours"), ({"hours": float("nan")}, "--hours"),
    ({"jobs": 0}, "--jobs"), ({"limit": 0}, "--limit"), ({"sample_rate": 1}, "--sample-rate"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path, options, message):
    out = tmp_path / "corpus"
    with pytest.raises(UserError, match=message):
        build_corpus(out, **options)
    assert not out.exists()


def test_a_folder_that_is_not_a_corpus_is_never_written_into(tmp_path):
    """A rebuild deletes stale renders in train/ and val/, so a user's own folder is refused."""
    mine = tmp_path / "music" / "train" / "mine.flac"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my recording")
    with pytest.raises(UserError, match="not empty"):
        build_corpus(tmp_path / "music", limit=1)
    assert mine.read_bytes() == b"my recording"
    assert sorted(p.name for p in (tmp_path / "music").rglob("*")) == ["mine.flac", "train"]


@needs_fluidsynth
def test_rebuild_into_an_earlier_corpus_folder(tmp_path):
    """The marker written by the first build lets a second build into the same folder."""
    pytest.importorskip("music21")
    first = build_corpus(tmp_path, limit=1, jobs=1, progress=False)
    second = build_corpus(tmp_path, limit=1, jobs=1, progress=False)
    assert first == second and len(first) == 1
