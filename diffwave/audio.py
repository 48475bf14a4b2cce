"""Audio I/O shared by every command: validated reading, mono/resample for the model,
and atomic writing (temp file + rename, so a crash never leaves a half-written file)."""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soundfile as sf
import soxr

from .errors import UserError, require_file

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
    def frames(self) -> int:
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


def check_writable(path: Path) -> None:
    """Fail early (before any compute) if ``path`` cannot be created."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserError(f"output path is a directory: {path}")
    if not parent.is_dir():
        raise UserError(f"output folder does not exist: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"output folder is not writable: {parent}")


def temp_prefix(path: Path) -> str:
    """Name prefix of :func:`atomic_path`'s temporary files for ``path`` (hidden, beside it)."""
    return f".{path.stem}."


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, replace: bool = True) -> Iterator[Path]:
    """Yield a temp path beside ``path``; move it into place only if the block succeeds.

    ``replace`` False claims the name atomically at that moment (a hard link, which fails if
    the name exists), so a file that appeared while the work ran is never overwritten. With
    ``replace`` True only a regular file is replaced, never a FIFO, device or folder.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=path.suffix or ".tmp", dir=path.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; a new file should follow the umask
        if replace:
            _require_replaceable(path)
            os.replace(tmp_path, path)
            return
        try:
            os.link(tmp_path, path)
        except FileExistsError:
            raise UserError(f"output file exists now (it appeared while this ran): {path} "
                            "(pass --force to overwrite, or --out)") from None
    finally:
        tmp_path.unlink(missing_ok=True)


def _require_replaceable(path: Path) -> None:
    if os.path.lexists(path) and not path.is_symlink() and not path.is_file():
        raise UserError(f"will not replace {path}: it is not a regular file")


def output_format(path: Path) -> str:
    """soundfile format name for an output path's extension (UserError if unsupported)."""
    ext = path.suffix.lstrip(".").upper()
    if ext not in sf.available_formats():
        raise UserError(f"unsupported output extension {path.suffix!r}; use .wav or .flac")
    return ext


def check_output(path: Path, force: bool = False) -> None:
    """Before any compute: the output can be written, and exists only with force."""
    check_writable(path)
    if path.exists() and not force:
        raise UserError(f"output file exists: {path} (pass --force to overwrite, or --out)")
    _require_replaceable(path)


def check_audio_output(path: Path, force: bool = False, keep: str | None = None) -> None:
    """:func:`check_output`, and the extension names an audio format we write (that holds
    samples encoded as ``keep`` exactly, when given)."""
    check_output(path, force)
    output_subtype(path, keep, exact=keep is not None)


LOSSLESS = ("PCM_", "FLOAT", "DOUBLE")


def output_subtype(path: Path, subtype: str | None, exact: bool) -> str | None:
    """The encoding to write ``path`` in: a lossless input ``subtype`` is carried over (PCM_16
    in, PCM_16 out); lossy ones (MP3, Vorbis, Opus) cannot be, and give None, the format's
    default. With ``exact``, a format that cannot hold the lossless samples is a UserError
    naming the formats that can (the user's samples are kept bit for bit, or not written)."""
    ext = output_format(path)
    if subtype is None or not subtype.startswith(LOSSLESS):
        return None
    if sf.check_format(ext, subtype):
        return subtype
    if exact:
        fits = " or ".join(f".{e.lower()}" for e in ("WAV", "FLAC") if sf.check_format(e, subtype))
        raise UserError(f"a {path.suffix} file cannot hold the input's {subtype} samples bit for bit; "
                        f"write {fits} instead: {path}")
    return None


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


def is_number(value) -> bool:
    """A real number (Python or numpy scalar), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_integer(value) -> bool:
    """An integer (Python or numpy scalar), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def duration_ok(seconds: float, limit: float = 3600.0, name: str = "--seconds", rate: int | None = None) -> float:
    """Validate a positive, finite duration up to ``limit`` seconds; with ``rate``, at least one sample."""
    if not is_number(seconds) or not math.isfinite(seconds) or seconds <= 0 or seconds > limit:
        raise UserError(f"{name} must be a number in (0, {limit:g}], got {seconds}")
    if rate is not None and round(float(seconds) * rate) < 1:
        raise UserError(f"{name} {float(seconds):g} is shorter than one sample at {rate} Hz")
    return float(seconds)


def rate_ok(rate, name: str = "sample_rate") -> int:
    """A sample rate given by a caller: a whole number (16000, np.int64(16000), 16000.0); range checks come later."""
    if not (is_number(rate) and math.isfinite(rate) and float(rate).is_integer()):
        raise UserError(f"{name} must be an integer number of Hz, got {rate!r}")
    return int(rate)
