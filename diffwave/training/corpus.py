"""Piano training corpus rendered offline from music21's bundled scores with FluidSynth.

Each job takes one score from music21's corpus, one part of it (a monophonic melody line)
or the whole score (keyboard-style polyphony), sets every part to Acoustic Grand Piano
(GM program 0), picks a tempo, velocity and transposition from a seeded generator, renders
MIDI with FluidSynth + FluidR3_GM at the model rate, and writes mono FLAC with silence
trimmed and loudness normalised. The train/validation split is by piece (a hash of its id),
so no piece is in both.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..io.errors import UserError, require_own_folder
from ..io.numbers import duration_ok

SOUNDFONT_CANDIDATES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)
SOUNDFONT_LICENSE = "FluidR3_GM soundfont (MIT licence, Debian fluid-soundfont-gm)"
SCORE_LICENSE = "music21 corpus score (public-domain work; music21 corpus licence notes apply)"
# music21 corpus folders used, and whether their pieces are split into monophonic parts
SOURCES = {"bach": True, "palestrina": True, "ryansMammoth": False, "essenFolksong": False,
           "oneills1850": False, "beethoven": True, "mozart": True, "haydn": True, "monteverdi": True,
           "trecento": True, "schumann_robert": False, "schumann_clara": False, "joplin": False,
           "chopin": False, "airdsAirs": False}
VALIDATION_PER_MILLE = 100
TARGET_RMS = 0.1  # -20 dBFS
PEAK_LIMIT = 0.95
LOWEST_PIANO, HIGHEST_PIANO = 21, 108
MAX_HOURS = 1000.0
RENDER_RATES = (8000, 96000)  # FluidSynth's synth.sample-rate range
# Written into every corpus folder: a rebuild may then delete stale renders there, and a
# folder without it (or an older build's manifest.csv) is never written into.
MARKER = ".diffwave-corpus"


@dataclass(frozen=True)
class RenderJob:
    piece_id: str
    path: str
    part: int  # -1 = the whole score
    tempo_bpm: float
    velocity: int
    transpose: int


def find_soundfont() -> Path:
    for cand in SOUNDFONT_CANDIDATES:
        if Path(cand).exists():
            return Path(cand)
    raise UserError("FluidR3_GM soundfont not found; install it: apt-get install fluidsynth fluid-soundfont-gm")


def split_of(piece_id: str) -> str:
    return "val" if zlib.crc32(piece_id.encode()) % 1000 < VALIDATION_PER_MILLE else "train"


def plan_jobs(seed: int) -> list[RenderJob]:
    """Every (score, part) render job, with seeded tempo/velocity/transpose, in seeded order."""
    from music21 import corpus

    rng = np.random.default_rng(seed)
    jobs = []
    for path in sorted(str(p) for p in corpus.getPaths()):
        source = path.split("/corpus/")[-1].split("/")[0]
        if source not in SOURCES or "choraleAnalyses" in path:
            continue
        piece_id = path.split("/corpus/")[-1].rsplit(".", 1)[0]
        parts = [-1, 0, 1, 2, 3] if SOURCES[source] else [-1]
        for part in parts:
            jobs.append(RenderJob(piece_id, path, part, float(rng.uniform(60, 150)), int(rng.integers(55, 110)),
                            int(rng.integers(-5, 6))))
    order = rng.permutation(len(jobs))
    return [jobs[i] for i in order]


def _prepare_score(job: RenderJob):
    """music21 stream for a job: chosen part, piano instruments, tempo, velocity, transposition."""
    from music21 import converter, instrument, stream, tempo

    score = converter.parse(job.path)
    if isinstance(score, stream.Opus):
        score = score.scores[0] if len(score.scores) else None
    if score is None:
        return None
    parts = list(score.parts) if score.hasPartLikeStreams() else [score]
    if job.part >= 0:
        if job.part >= len(parts):
            return None
        piece = stream.Score([parts[job.part]])
    else:
        piece = score
    for el in list(piece.recurse().getElementsByClass((instrument.Instrument, tempo.MetronomeMark))):
        el.activeSite.remove(el)
    for part in piece.parts if piece.hasPartLikeStreams() else [piece]:
        part.insert(0, instrument.Piano())
        part.insert(0, tempo.MetronomeMark(number=job.tempo_bpm))
    notes = list(piece.recurse().notes)
    if not notes:
        return None
    pitches = [p.midi for n in notes for p in n.pitches]
    shift = job.transpose if LOWEST_PIANO <= min(pitches) + job.transpose and max(pitches) + job.transpose <= HIGHEST_PIANO else 0
    if shift:
        piece = piece.transpose(shift)
    for n in piece.recurse().notes:
        n.volume.velocity = job.velocity
    return piece


def normalise(audio: np.ndarray, rate: int) -> np.ndarray:
    """Trim leading/trailing silence (50 dB below peak), scale to -20 dBFS RMS, peak <= 0.95."""
    import librosa

    trimmed, _ = librosa.effects.trim(audio, top_db=50, frame_length=1024, hop_length=256)
    rms = float(np.sqrt(np.mean(trimmed**2))) if len(trimmed) else 0.0
    if rms == 0.0:
        return trimmed
    out = trimmed * (TARGET_RMS / rms)
    peak = float(np.abs(out).max())
    return out * (PEAK_LIMIT / peak) if peak > PEAK_LIMIT else out


def render_job(job: RenderJob, out_dir: Path, rate: int, soundfont: Path) -> dict | None:
    """Render one job to FLAC; returns its manifest row, or None if the score has no notes."""
    import soundfile as sf
    from music21 import midi

    name = f"{job.piece_id.replace('/', '_')}__{'full' if job.part < 0 else f'part{job.part}'}"
    split = split_of(job.piece_id)
    target = out_dir / split / f"{name}.flac"
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "x.mid", Path(tmp) / "x.wav"
        try:
            piece = _prepare_score(job)
            if piece is None:
                return None
            mf = midi.translate.music21ObjectToMidiFile(piece)
            mf.open(str(mid), "wb")
            mf.write()
            mf.close()
        except Exception:  # a corpus score music21 cannot parse or translate is skipped, not fatal
            return None
        subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(wav), "-r", str(rate), "-g", "0.6", str(soundfont), str(mid)],
                       check=True, capture_output=True, timeout=600)
        audio, got_rate = sf.read(str(wav), dtype="float32", always_2d=True)
    if got_rate != rate:
        raise RuntimeError(f"fluidsynth rendered at {got_rate} Hz, asked for {rate}")
    audio = normalise(audio.mean(axis=1), rate)
    if len(audio) < rate:  # under a second of sound: not worth a file
        return None
    sf.write(str(target), audio, rate, subtype="PCM_16")
    return {"file": f"{split}/{target.name}", "piece_id": job.piece_id, "part": "full" if job.part < 0 else job.part,
            "split": split, "duration_s": round(len(audio) / rate, 3), "tempo_bpm": round(job.tempo_bpm, 1),
            "velocity": job.velocity, "transpose": job.transpose, "soundfont": soundfont.name,
            "license": f"{SCORE_LICENSE}; {SOUNDFONT_LICENSE}"}


def _render_star(args):
    return render_job(*args)


def _check_options(out_dir: Path, hours: float, sample_rate: int, limit: int | None, jobs: int) -> None:
    """UserError for bad options, and for a folder that holds anything but an earlier corpus."""
    duration_ok(hours, MAX_HOURS, "--hours")
    if not RENDER_RATES[0] <= sample_rate <= RENDER_RATES[1]:
        raise UserError(f"--sample-rate must be {RENDER_RATES[0]}..{RENDER_RATES[1]} Hz, got {sample_rate}")
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    ours = (out_dir / MARKER).exists() or (out_dir / "manifest.csv").exists()
    require_own_folder(out_dir, ours, "corpus folder", "no earlier corpus")


def build_corpus(out_dir: str | Path, hours: float = 10.0, sample_rate: int = 16000, seed: int = 0,
                 limit: int | None = None, jobs: int = 2, progress: bool = True) -> list[dict]:
    """Render jobs until ``hours`` of training audio exist (or ``limit`` pieces); write manifest.csv."""
    out_dir = Path(out_dir)
    _check_options(out_dir, hours, sample_rate, limit, jobs)
    if shutil.which("fluidsynth") is None:
        raise UserError("fluidsynth not found; install it: apt-get install fluidsynth fluid-soundfont-gm")
    soundfont = find_soundfont()
    try:
        for split in ("train", "val"):
            (out_dir / split).mkdir(parents=True, exist_ok=True)
        (out_dir / MARKER).write_text("rendered by `diffwave corpus`; files in train/ and val/ may be replaced\n")
    except OSError as exc:
        raise UserError(f"cannot create corpus folder {out_dir}: {exc.strerror or exc}") from None
    planned = plan_jobs(seed)[: limit or None]
    rows: list[dict] = []
    train_seconds = 0.0
    args = [(job, out_dir, sample_rate, soundfont) for job in planned]
    with get_context("spawn").Pool(jobs) as pool:
        for row in pool.imap(_render_star, args):
            if row is None:
                continue
            rows.append(row)
            if row["split"] == "train":
                train_seconds += row["duration_s"]
            if progress and len(rows) % 25 == 0:
                print(f"rendered {len(rows)} files, {train_seconds / 3600:.2f} h of training audio", flush=True)
            if train_seconds >= hours * 3600:
                pool.terminate()
                break
    rows.sort(key=lambda r: r["file"])
    keep = {r["file"] for r in rows}
    for split in ("train", "val"):  # files from an interrupted earlier build are not in this manifest
        for stale in (out_dir / split).glob("*.flac"):
            if f"{split}/{stale.name}" not in keep:
                stale.unlink()
    with open(out_dir / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["file"])
        writer.writeheader()
        writer.writerows(rows)
    val_seconds = sum(r["duration_s"] for r in rows if r["split"] == "val")
    print(f"corpus: {len(rows)} files, train {train_seconds / 3600:.2f} h, validation {val_seconds / 3600:.2f} h -> {out_dir}")
    return rows


__all__ = ["RenderJob", "asdict", "build_corpus", "plan_jobs", "render_job", "split_of"]
