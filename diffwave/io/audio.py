"""Audio I/O shared by every command: validated reading, mono/resample for the model, and
writing through :func:`diffwave.io.outputs.atomic_path` (a crash never leaves a half-written file)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
import soxr

from .errors import UserError, require_file
from .outputs import atomic_path, output_format, output_subtype

MIN_RATE = 4000

MAX_RATE = 768000

MAX_CHANNELS = 64

# Largest input decoded: samples over all channels (1 GiB as float64; decoding and checks take
# about three times that at peak). 70 min of 16 kHz stereo, 23 min of 48 kHz stereo.
MAX_INPUT_SAMPLES = 2**27

_TRUNCATED = re.compile(r"^data\s*:\s*\d+\s*\(should be", re.MULTILINE)


@dataclass(frozen=True)
class Audio:
    """A decoded file. ``samples`` is [frames, channels] float64, exactly as stored."""

    samples: np.ndarray
    sample_rate: int
    subtype: str
    format: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def length(self) -> int:
        """Samples per channel (soundfile calls them frames; here a frame is an extension window)."""
        return int(self.samples.shape[0])


def read_audio(path: str | os.PathLike, warn: Callable[[str], None] | None = None) -> Audio:
    """Read and validate a file; bad input raises a one-line UserError.

    Values beyond +-1 and digital silence are not errors: ``warn`` is told, and the caller
    decides the recovery.
    """
    path = Path(path)
    require_file(path, "input file")
    try:
        info = sf.info(str(path))
        if _TRUNCATED.search(info.extra_info or ""):
            raise UserError(f"input file is truncated (its header promises more audio than it holds): {path}")
        if info.frames * info.channels > MAX_INPUT_SAMPLES:
            raise UserError(f"input is too long: {info.frames} frames x {info.channels} channels is over the "
                            f"{MAX_INPUT_SAMPLES} samples read at once; extend its last minutes (e.g. "
                            f"sox in.wav tail.wav trim -600) and join the result after the rest: {path}")
        samples, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except UserError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"cannot decode {path} as audio ({reason})") from None
    validate(samples, int(rate), str(path), warn)
    return Audio(samples=samples, sample_rate=int(rate), subtype=info.subtype, format=info.format)


def validate(samples: np.ndarray, rate: int, where: str = "input", warn: Callable[[str], None] | None = None) -> None:
    """Checks shared by files and in-memory arrays [frames, channels]; UserError on failure.

    Values beyond +-1, digital silence and many channels have recoveries: ``warn`` is told.
    """
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UserError(f"sample rate {rate} Hz is not supported (allowed {MIN_RATE}..{MAX_RATE} Hz): {where}")
    if samples.ndim != 2:
        raise UserError(f"audio must be [frames] or [frames, channels], got shape {samples.shape}: {where}")
    if samples.shape[1] > MAX_CHANNELS or samples.shape[1] < 1:
        raise UserError(f"{samples.shape[1]} channels is not supported (1..{MAX_CHANNELS}): {where}")
    if samples.shape[0] == 0:
        raise UserError(f"input has zero samples: {where}")
    if not np.isfinite(samples).all():
        raise UserError(f"input contains NaN or infinite samples: {where}")
    if warn is None:
        return
    peak = float(np.abs(samples).max())
    if peak == 0.0:
        warn("input is digital silence; the continuation is effectively unconditional")
    elif peak > 1.0:
        warn(f"input peaks at {peak:.3g}, beyond +-1; the model hears it clipped to +-1, your samples are kept as they are")
    if samples.shape[1] > 2:
        warn(f"input has {samples.shape[1]} channels; the model hears a mono downmix and the continuation goes to every channel")


def to_mono(samples: np.ndarray) -> np.ndarray:
    """[frames, channels] -> [frames] by averaging channels."""
    return samples.mean(axis=1) if samples.ndim == 2 else samples


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality) along axis 0."""
    if rate_in == rate_out:
        return x
    return soxr.resample(x, rate_in, rate_out, quality="HQ")


def model_input(samples: np.ndarray, rate: int, model_rate: int) -> np.ndarray:
    """[frames, channels] at ``rate`` -> mono float32 at the model rate, clipped to +-1:
    what the network conditions on. [L]"""
    mono = resample(to_mono(samples), rate, model_rate)
    return np.clip(mono, -1.0, 1.0).astype(np.float32)


def load_mono(path: str | os.PathLike, rate: int) -> np.ndarray:
    """Any readable file -> mono float32 at ``rate``. [L]"""
    audio = read_audio(path)
    return model_input(audio.samples, audio.sample_rate, rate)


def write_audio(path: str | os.PathLike, samples: np.ndarray, rate: int, subtype: str | None = None,
                replace: bool = True, exact: bool = False) -> None:
    """Atomically write [frames] or [frames, channels]; format follows the file extension and
    the encoding follows :func:`output_subtype`. ``replace`` False never overwrites a file
    (:func:`atomic_path`)."""
    path = Path(path)
    ext = output_format(path)
    subtype = output_subtype(path, subtype, exact)
    try:
        with atomic_path(path, replace) as tmp:
            sf.write(str(tmp), samples, rate, subtype=subtype, format=ext)
    except (OSError, sf.LibsndfileError) as exc:
        raise UserError(f"cannot write {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
