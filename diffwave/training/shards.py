"""Compact, portable training data: a folder of audio packed into Ogg Vorbis shards of at most N MB.

Each shard holds several pieces back to back, mono at the model rate; ``shards.json`` lists
where each piece starts, so training crops never span two pieces. Vorbis at 16 kHz mono takes
about 8 KB per second of audio at the best quality (``quality`` 0.0; libsndfile's
compression level), a tenth of 16-bit PCM, so hours of piano fit through a 64 MiB link.

Lossy coding adds an error the model could learn to reproduce. The pack step decodes every
shard again and reports the error RMS against the smallest noise of the training schedule,
sqrt(1 - abar_0) = sqrt(beta_1), times the model's data_scale: below 1, the coding error is
hidden under the noise of every training step.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from ..io.audio import load_mono
from ..io.errors import UserError, require_own_folder
from ..io.outputs import atomic_path

MANIFEST = "shards.json"
FORMAT = "diffwave-extend-shards/1"
BYTES_PER_S_GUESS = 9000.0  # first size estimate at 16 kHz; later shards use the measured rate


def encode(audio: np.ndarray, rate: int, quality: float) -> bytes:
    """Ogg Vorbis bytes of mono float audio [L].

    Written in 10 s blocks: libvorbis allocates its analysis buffer on the stack, and one call
    with minutes of audio overflows it (a segfault here at 600 s; libsndfile issue 1095).
    """
    buf = io.BytesIO()
    audio = np.clip(audio, -1.0, 1.0)
    with sf.SoundFile(buf, "w", rate, 1, format="OGG", subtype="VORBIS", compression_level=quality) as f:
        for i in range(0, len(audio), 10 * rate):
            f.write(audio[i : i + 10 * rate])
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    audio, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return audio[:, 0]


def _check(shard_mb: float, quality: float) -> None:
    if not (math.isfinite(shard_mb) and 0.001 <= shard_mb <= 4096):
        raise UserError(f"--shard-mb must be a number of MB in [0.001, 4096], got {shard_mb}")
    if not (math.isfinite(quality) and 0.0 <= quality <= 1.0):
        raise UserError(f"--quality must be in [0, 1] (0 = best), got {quality}")


def pack(pieces: list[tuple[str, np.ndarray]], out_dir: str | Path, rate: int, shard_mb: float = 48.0,
         quality: float = 0.0, smallest_noise: float = 0.01, data_scale: float = 1.0,
         progress: Callable[[str], None] | None = None) -> dict:
    """Write ``pieces`` (name, mono [L] at ``rate``) as shards of at most ``shard_mb`` MB, and the manifest.

    A piece larger than a shard is split in halves until it fits. Returns the manifest.
    """
    _check(shard_mb, quality)
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST
    require_own_folder(out_dir, manifest_path.exists(), "shard folder", f"no earlier shards ({MANIFEST})")
    out_dir.mkdir(parents=True, exist_ok=True)
    if manifest_path.exists():  # a re-pack removes the shards it listed, and nothing else
        for shard in json.loads(manifest_path.read_text()).get("shards", []):
            (out_dir / Path(shard["file"]).name).unlink(missing_ok=True)
    limit = shard_mb * 2**20
    rate_guess = BYTES_PER_S_GUESS * rate / 16000
    shards: list[dict] = []
    err2, sig2, total = 0.0, 0.0, 0

    def flush(group: list[tuple[str, np.ndarray]]) -> None:
        nonlocal rate_guess, err2, sig2, total
        audio = np.concatenate([a for _, a in group])
        data = encode(audio, rate, quality)
        if len(data) > limit:
            if len(group) == 1:  # one piece too big for a shard: split it in halves
                name, a = group[0]
                half = len(a) // 2
                flush([(f"{name}#a", a[:half])])
                flush([(f"{name}#b", a[half:])])
            else:
                flush(group[: len(group) // 2])
                flush(group[len(group) // 2 :])
            return
        back = decode(data)[: len(audio)]
        err2 += float(np.sum((back - audio[: len(back)]) ** 2, dtype=np.float64))
        sig2 += float(np.sum(audio.astype(np.float64) ** 2))
        total += len(back)
        rate_guess = len(data) / (len(audio) / rate)
        name = f"shard-{len(shards):05d}.ogg"
        with atomic_path(out_dir / name) as tmp:
            tmp.write_bytes(data)
        starts = np.cumsum([0] + [len(a) for _, a in group[:-1]]).tolist()
        shards.append({"file": name, "bytes": len(data), "seconds": len(audio) / rate,
                       "pieces": [[n, int(s), len(a)] for (n, a), s in zip(group, starts)]})
        if progress is not None:
            progress(f"{name}: {len(group)} pieces, {len(audio) / rate / 3600:.2f} h, {len(data) / 2**20:.1f} MB")

    group: list[tuple[str, np.ndarray]] = []
    for name, audio in pieces:
        seconds = (sum(len(a) for _, a in group) + len(audio)) / rate
        if group and seconds * rate_guess * 1.05 > limit:
            flush(group)
            group = []
        group.append((name, np.asarray(audio, dtype=np.float32)))
    if group:
        flush(group)
    if not shards:
        raise UserError("no audio to pack")
    error = math.sqrt(err2 / max(total, 1))
    manifest = {"format": FORMAT, "sample_rate": rate, "codec": "OGG/VORBIS", "quality": quality, "shard_mb": shard_mb,
                "hours": total / rate / 3600, "megabytes": sum(s["bytes"] for s in shards) / 2**20,
                "signal_rms": math.sqrt(sig2 / max(total, 1)), "codec_error_rms": error,
                "smallest_noise_std": smallest_noise, "data_scale": data_scale,
                "error_over_smallest_noise": error * data_scale / smallest_noise, "shards": shards}
    with atomic_path(manifest_path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1))
    return manifest


def pack_folder(data_dir: str | Path, out_dir: str | Path, rate: int = 16000, **options) -> dict:
    """Pack every audio file under ``data_dir`` (mono, resampled to ``rate``) into shards."""
    from .data import find_audio

    data_dir = Path(data_dir)
    files = find_audio(data_dir)
    pieces = ((str(p.relative_to(data_dir)), load_mono(p, rate)) for p in files)
    return pack(pieces, out_dir, rate, **options)


def is_shard_folder(folder: str | Path) -> bool:
    return (Path(folder) / MANIFEST).is_file()


def load_pieces(folder: str | Path, rate: int) -> list[np.ndarray]:
    """The pieces of a shard folder as mono float32 arrays at ``rate`` (one-line errors)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {folder / MANIFEST}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise UserError(f"{folder / MANIFEST} is not a diffwave shard manifest")
    if manifest["sample_rate"] != rate:
        raise UserError(f"shards in {folder} are at {manifest['sample_rate']} Hz, the model at {rate} Hz; "
                        f"pack them again with --sample-rate {rate}")
    out = []
    for shard in manifest["shards"]:
        path = folder / Path(shard["file"]).name
        try:
            audio = decode(path.read_bytes())
        except (OSError, sf.LibsndfileError) as exc:
            raise UserError(f"cannot read shard {path}: {exc}") from None
        out.extend(audio[start : start + length] for _, start, length in shard["pieces"])
    return out
