"""File in, file out: what the ``extend`` command does, as one call.

    from extend.files import extend_file
    path = extend_file("song.wav", seconds=30, sampler="lambda")   # writes song_extended.wav

Everything is checked before any compute: the input decodes, the duration is at least one
sample at the input's rate, the output is writable, is not the input, exists only with
``force``, and can hold the input's samples bit for bit. The output is written atomically and
is claimed by name only at the end, so nothing the user had is lost or left half-written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from diffwave.io.audio import read_audio, write_audio
from diffwave.io.errors import UserError
from diffwave.io.numbers import duration_ok
from diffwave.io.outputs import check_audio_output
from diffwave.model import DiffWave

from .api import MAX_SECONDS, Extender, FrameCallback, check_sampler
from .gaps import check_loop_seam, gap_samples


def default_output(source: Path, mode: str = "extended") -> Path:
    """``<stem>_<mode>.wav`` beside the input: extended, inpainted or loop."""
    return source.with_name(f"{source.stem}_{mode}.wav")


def extend_file(input: str | os.PathLike, seconds: float | None = None, out: str | os.PathLike | None = None,
                model: str | os.PathLike | DiffWave | Extender | None = None, device: str = "auto",
                force: bool = False, only_new: bool = False, on_frame: FrameCallback | None = None,
                warn: Callable[[str], None] | None = None, gaps: Sequence[tuple[float, float]] | None = None,
                loop: float | None = None, candidates: int = 1, **job_options) -> Path | list[Path]:
    """Continue the audio file ``input`` by ``seconds``, fill its ``gaps`` ((start_s, end_s)
    pairs, :meth:`Extender.inpaint`), or make it ``loop`` with that many seconds inpainted across
    the wrap (:meth:`Extender.loop`); exactly one of the three. Returns the written path.

    ``out`` None: :func:`default_output`. ``only_new`` writes just the generated audio (extension only).
    ``model``: a file, a network, an :class:`Extender` to reuse, or None for the bundled model.
    ``job_options`` are :meth:`Extender.job`'s (sampler, steps, context, new, seed, ...; a
    sampler's own knobs only when given). ``on_frame`` is first called after every check has
    passed, so a progress display that starts there never shows for a refused request.
    ``warn`` receives one line per recoverable input problem (for example a truncated file).
    Output encoding: the input's lossless subtype, or refused (``UserError``) for a format that
    cannot hold it.

    ``candidates`` K > 1 (extension only) writes K continuations from one batched run
    (:meth:`Extender.candidates`), best seam first, as ``<out stem>_1`` ... ``_K``, and returns
    their paths as a list.
    """
    modes = [name for name, value in (("--seconds", seconds), ("--gap", gaps), ("--loop", loop)) if value is not None]
    if len(modes) != 1 and modes != ["--seconds", "--loop"]:  # --loop with --seconds: a continuation that loops
        raise UserError("give one of --seconds (extend), --gap (fill) or --loop (make loopable; with --seconds, "
                        "a continuation that loops)" + (f", not {' and '.join(modes)}" if modes else ""))
    if seconds is None and only_new:
        raise UserError("--only-new applies to extension, not to gaps or loops")
    if (seconds is None or loop is not None) and candidates != 1:
        raise UserError("--candidates applies to extension, not to gaps or loops")
    if loop is not None and only_new:
        raise UserError("--only-new applies to extension, not to gaps or loops")
    if seconds is not None:
        seconds = duration_ok(seconds, MAX_SECONDS)
    check_sampler(job_options.get("sampler", "lambda"))  # before reading input or loading the model
    source = Path(input)
    audio = read_audio(source, warn=warn)  # first: a directory such as "." has no name to derive an output from
    if seconds is not None:
        duration_ok(seconds, MAX_SECONDS, rate=audio.sample_rate)  # at least one sample, before any model loads
    if gaps is not None:
        gap_samples(gaps, audio.sample_rate, audio.length)
    if loop is not None:
        span = audio.length if seconds is None else 2 * int(round(seconds * audio.sample_rate))
        check_loop_seam(loop, span, audio.sample_rate)
    mode = "loop" if loop is not None else ("inpainted" if gaps is not None else "extended")
    target = Path(out) if out is not None else default_output(source, mode)
    targets = [target] if candidates == 1 else [target.with_name(f"{target.stem}_{k + 1}{target.suffix}")
                                                for k in range(max(int(candidates), 0))]
    for path in targets:
        if path.exists() and path.resolve() == source.resolve():
            raise UserError(f"output would overwrite the input file: {path}")
        check_audio_output(path, force, keep=audio.subtype)
    extender = model if isinstance(model, Extender) else Extender(model, device=device)
    extender.job(**job_options)  # validate before any compute
    if candidates != 1:
        ranked = extender.candidates(audio.samples, audio.sample_rate, seconds, candidates, on_frame=on_frame,
                                     **job_options)
        for path, cand in zip(targets, ranked):
            samples = cand.audio[audio.length :] if only_new else cand.audio
            write_audio(path, samples, audio.sample_rate, audio.subtype, replace=force, exact=True)
        return targets
    if gaps is not None:
        result = extender.inpaint(audio.samples, audio.sample_rate, gaps, on_frame=on_frame, **job_options)
    elif loop is not None:
        result = extender.loop(audio.samples, audio.sample_rate, loop, seconds, on_frame=on_frame, **job_options)
    else:
        result = extender.extend(audio.samples, audio.sample_rate, seconds, on_frame=on_frame, **job_options)
    samples = result[audio.length :] if only_new else result
    write_audio(target, samples, audio.sample_rate, audio.subtype, replace=force, exact=True)
    return target
