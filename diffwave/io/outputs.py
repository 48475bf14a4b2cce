"""Output files: checks before any compute, the encoding to keep, and atomic writes (a temp file
beside the target, moved into place only when the work succeeded)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

import soundfile as sf

from .errors import UserError


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
