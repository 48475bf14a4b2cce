"""Python API: load a model once, then extend or stream continuations.

    from extend import Extender
    ex = Extender()                                  # the bundled piano model
    out = ex.extend(audio, sr, seconds=10)           # same rate/channels as audio, prefix bit-exact
    for chunk in ex.stream(audio, sr, seconds=None): # endless: mono chunks at the model rate
        ...
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from diffwave.checkpoint import load_model
from diffwave.io.audio import model_input, resample, validate
from diffwave.io.errors import UserError
from diffwave.io.numbers import duration_ok, is_integer, is_number, rate_ok
from diffwave.model import DiffWave
from diffwave.pretrained import default_model_path
from diffwave.runtime.allocator import retain_freed_memory
from diffwave.runtime.devices import resolve_device
from diffwave.runtime.precision import for_precision, use_bf16
from diffwave.schedule import Schedule, fast_schedule, make_schedule

from .frames import FramePlan, plan_frames, run_frames
from .gaps import check_loop_seam, chunk_count, fill_gap, gap_at_rate, gap_samples
from .guide import check_guide, make_guide
from .samplers import SAMPLERS, Sampler, check_knobs, check_model
from .seam import residual_fade

DEFAULT_SAMPLER = "lambda"
DEFAULT_STEPS = 50
DEFAULT_CONTEXT = 4.0
DEFAULT_NEW = 1.0
DEFAULT_PRECISION = "auto"
DEFAULT_GUIDE = "none"
DEFAULT_STRENGTH = 0.05  # with a guide: the best row of benchmarks.guide (docs/guide.md)
MAX_SECONDS = 3600.0
MAX_CANDIDATES = 16
RESAMPLE_TAIL_S = 0.1  # model-rate input kept before the seam when resampling the continuation

FrameCallback = Callable[[int, int | None, np.ndarray], None]
StepCallback = Callable[[int, dict], None]  # (frame, the sampler's per-step dict)


@dataclass(frozen=True)
class Job:
    """A validated request: what runs, on what, for how long."""

    sampler: Sampler
    schedule: Schedule
    plan: FramePlan
    options: dict
    seed: int
    precision: str = "fp32"
    guide: str = DEFAULT_GUIDE  # a guess at each frame's new audio (extend.guide); schedule then starts lower


@dataclass(frozen=True)
class Candidate:
    """One of :meth:`Extender.candidates`' continuations."""

    audio: np.ndarray  # input, bit-exact, then the continuation; the input's layout
    seed: int  # the seed whose starting noise this candidate used
    seam_db: float  # |level change| across the seam in dB, over 0.1 s each side (lower is smoother)


def check_sampler(name: str) -> Sampler:
    """The registered sampler called ``name``, or a one-line UserError listing the choices."""
    if name not in SAMPLERS:
        raise UserError(f"unknown sampler {name!r}; choose one of {', '.join(sorted(SAMPLERS))}")
    return SAMPLERS[name]


def _as_frames(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio)
    if a.dtype.kind in "iu":  # PCM integers would be read as amplitudes in the tens of thousands
        raise UserError(f"audio is integer PCM ({a.dtype}); pass floats in [-1, 1], e.g. audio / 32768 for int16, "
                        f"or read the file with soundfile's default dtype='float64'")
    if a.dtype.kind != "f":
        raise UserError(f"audio must be a float array, got dtype {a.dtype}")
    a = a.astype(np.float64, copy=False)
    return a[:, None] if a.ndim == 1 else a


class Extender:
    """Holds one model; ``extend`` and ``stream`` can be called any number of times.

    ``retain_memory=True`` tells glibc to keep freed activation buffers in the process
    (:mod:`diffwave.runtime.allocator`), which made CPU extension 1.45x faster here; the ``extend``
    command does. The setting is process-wide: from then on the whole process, not just this
    object, keeps its peak heap instead of returning freed memory to the OS, so it is opt-in
    (leave it off in a long-lived server that must give memory back).

    ``model``: a model file (None: the bundled one), a :class:`DiffWave`, or any module with
    its interface (``forward(x_t [B, L], t [B]) -> eps [B, L]``, ``config``, ``receptive_field``),
    such as :class:`benchmarks.classical.SpectralSubtraction`.
    """

    def __init__(self, model: str | os.PathLike | DiffWave | torch.nn.Module | None = None, device: str = "auto",
                 retain_memory: bool = False):
        if retain_memory:
            retain_freed_memory()
        if isinstance(model, torch.nn.Module):
            self.model = model.eval()
        else:
            self.model = load_model(model or default_model_path(), resolve_device(device))

    @property
    def sample_rate(self) -> int:
        return self.model.config.sample_rate

    def job(self, sampler: str = DEFAULT_SAMPLER, steps: int | None = DEFAULT_STEPS, context: float = DEFAULT_CONTEXT,
            new: float = DEFAULT_NEW, seed: int = 0, crop: bool = True, precision: str = DEFAULT_PRECISION,
            betas: Sequence[float] | None = None, guide: str = DEFAULT_GUIDE, strength: float | None = None,
            **options) -> Job:
        """Validate options into a :class:`Job` (one-line UserErrors).

        ``betas``: an explicit short noise schedule instead of ``steps`` respaced ones, e.g.
        DiffWave's 6-step [1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5]; each inference step is aligned to
        a fractional training step (:func:`diffwave.schedule.fast_schedule`).

        ``precision``: "auto" (bf16 autocast on CUDA, fp32 on CPU), "fp32" or "bf16"
        (:mod:`diffwave.runtime.precision`; on this CPU bf16 made each pass 1.56x faster).

        ``guide``: "none"; "lpc" to start each frame's new audio (each gap chunk: from both
        sides, :func:`extend.guide.two_sided`) from a linear-prediction guess; "match" from what
        followed the most similar passage of the input (:mod:`extend.guide`, :mod:`extend.match`;
        a gap's own samples are never replayed). ``strength`` in (0, 1]: the fraction of the schedule's steps
        that run, its noisiest dropped (SDEdit's strength); below 1 it needs a guide. None: 1
        without a guide, DEFAULT_STRENGTH with one.
        """
        fn = check_sampler(sampler)
        use_bf16(precision, next(self.model.parameters()).device)
        T = self.model.config.num_steps
        if betas is None and steps is not None and not (is_integer(steps) and 1 <= steps <= T):
            raise UserError(f"steps must be an integer from 1 to {T}, got {steps}")
        for name, value, hi in (("context", context, 600.0), ("new", new, 60.0)):
            if not (is_number(value) and math.isfinite(value) and 0 < value <= hi):
                raise UserError(f"{name} must be a number of seconds in (0, {hi:g}], got {value}")
        if betas is None:
            schedule = make_schedule(self.model.config, steps)
        else:
            try:
                values = [float(b) for b in betas]
                if not 1 <= len(values) <= T:
                    raise ValueError(f"need 1 to {T} betas, got {len(values)}")
                schedule = fast_schedule(self.model.config, values)
            except (TypeError, ValueError) as exc:
                raise UserError(f"betas must be a list of values in (0, 1): {exc}") from None
        try:
            guide = check_guide(guide)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if strength is None:
            strength = 1.0 if guide == "none" else DEFAULT_STRENGTH
        if not (is_number(strength) and math.isfinite(strength) and 0 < strength <= 1):
            raise UserError(f"strength must be a number in (0, 1], got {strength}")
        if guide == "none" and strength < 1:
            raise UserError("strength below 1 starts from a guess; give a guide (lpc or match)")
        schedule = schedule.lowest(max(1, round(strength * len(schedule))))
        try:
            check_knobs(sampler, len(schedule), options)
            check_model(sampler, self.model.config)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        plan = plan_frames(self.model, context, new, crop=crop)
        return Job(fn, schedule, plan, dict(options), int(seed), precision, guide)

    def _model_input(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        frames = _as_frames(audio)
        rate = rate_ok(sample_rate)
        validate(frames, rate, "audio")
        return model_input(frames, rate, self.sample_rate)

    def _run(self, mono: np.ndarray, total: float, job: Job, on_frame: FrameCallback | None,
             on_step: StepCallback | None = None, candidates: int = 1) -> Iterator[np.ndarray]:
        count = None if math.isinf(total) else job.plan.frames_for(int(total))
        denoiser = for_precision(self.model, job.precision)
        for index, chunk in enumerate(run_frames(denoiser, mono, total, job.sampler, job.schedule, job.plan,
                                                  job.seed, job.options, step_callback=on_step,
                                                  candidates=candidates,
                                                  guide=make_guide(job.guide, self.sample_rate, [mono]))):
            if on_frame is not None:
                on_frame(index, count, chunk)
            yield chunk

    def stream(self, audio: np.ndarray, sample_rate: int, seconds: float | None = None,
               on_frame: FrameCallback | None = None, on_step: StepCallback | None = None,
               **job_options) -> Iterator[np.ndarray]:
        """Yield each frame's new audio (mono float32 at ``self.sample_rate``) as soon as it exists.

        ``seconds=None`` streams forever (looped generation); stop iterating to end it.
        ``on_frame(index, total_frames_or_None, chunk)`` is called per frame, and
        ``on_step(frame, info)`` after every reverse step with the sampler's
        ``{"i", "n", "x", "x0"}`` (:mod:`extend.samplers`; x and x0 in the model's units, x data_scale).
        """
        job = self.job(**job_options)  # validated now, not at the first next()
        mono = self._model_input(audio, sample_rate)
        total = math.inf if seconds is None else int(round(duration_ok(seconds, MAX_SECONDS, "seconds", self.sample_rate) * self.sample_rate))
        return self._run(mono, total, job, on_frame, on_step)

    def inpaint(self, audio: np.ndarray, sample_rate: int, gaps: Sequence[tuple[float, float]],
                on_frame: FrameCallback | None = None, **job_options) -> np.ndarray:
        """Return ``audio`` with each gap (start_s, end_s) generated; every other sample is the input's, bit-exact.

        Gaps are filled in time order, each seeing the audio on both sides
        (:func:`extend.gaps.fill_gap`), with the frame lengths of :meth:`job` (a gap longer
        than ``new`` is filled in chunks; the last one sees the right side). A later gap sees
        earlier fills as known audio. ``on_frame(index, total, chunk)`` is called per chunk.
        Returns float64 in the input's layout ([L] or [L, C]).
        """
        job = self.job(**job_options)
        frames = _as_frames(audio)
        mono = self._model_input(audio, sample_rate)
        ranges = gap_samples(gaps, int(sample_rate), frames.shape[0])
        ratio = self.sample_rate / sample_rate
        model_ranges = [(int(math.floor(a * ratio)), min(len(mono), int(math.ceil(b * ratio)))) for a, b in ranges]
        total = sum(chunk_count(a, b, job.plan) for a, b in model_ranges)
        denoiser = for_precision(self.model, job.precision)
        edges = [0, *(i for gap in model_ranges for i in gap), len(mono)]  # the gaps are sorted and apart
        kept = [mono[a:b] for a, b in zip(edges[::2], edges[1::2]) if b > a]  # what a match guide may replay
        guide = make_guide(job.guide, self.sample_rate, kept)
        backward = make_guide(job.guide, self.sample_rate, [s[::-1] for s in kept])
        done = 0
        out = frames.copy()
        for (a, b), (ma, mb) in zip(ranges, model_ranges):
            def on_chunk(k: int, n: int, chunk: np.ndarray, first: int = done) -> None:
                if on_frame is not None:
                    on_frame(first + k, total, chunk)

            mono = fill_gap(denoiser, mono, ma, mb, job.sampler, job.schedule, job.plan, job.seed, job.options,
                            first_frame=done, on_chunk=on_chunk, guide=guide,
                            backward=backward)
            done += chunk_count(ma, mb, job.plan)
            out[a:b] = gap_at_rate(out, int(sample_rate), a, b, mono, self.sample_rate, job.plan.fade)  # after earlier fills
        return out[:, 0] if np.asarray(audio).ndim == 1 else out

    def loop(self, audio: np.ndarray, sample_rate: int, seam: float = 0.25, seconds: float | None = None,
             on_frame: FrameCallback | None = None, **job_options) -> np.ndarray:
        """Return audio that loops without a seam: played end to start, it flows on.

        ``seconds`` None: ``audio`` itself is made to loop. The clip is rotated by half its
        length, so that its end meets its start in the middle, the ``seam`` seconds around that
        junction are inpainted from both sides (:meth:`inpaint`), and the clip is rotated back.
        The result has the input's length; everything except the first and last ``seam`` / 2
        seconds is the input, bit-exact.

        ``seconds`` N: ``audio`` followed by N seconds that continue it (:meth:`extend`) and wrap
        back to its start: the last ``seam`` seconds of the continuation are inpainted between the
        continuation and the input's beginning. The input stays bit-exact, and the result loops.
        Returns float64 in the input's layout.
        """
        frames = _as_frames(audio)
        rate = rate_ok(sample_rate)
        n = frames.shape[0]
        if seconds is None:
            check_loop_seam(seam, n, rate)
            half = n // 2
            rotated = np.concatenate([frames[half:], frames[:half]])
            junction = (n - half) / rate
            filled = _as_frames(self.inpaint(rotated, rate, [(junction - seam / 2, junction + seam / 2)], on_frame,
                                             **job_options))
            out = np.concatenate([filled[n - half :], filled[: n - half]])
        else:
            new = int(round(duration_ok(seconds, MAX_SECONDS, "seconds", rate) * rate))
            check_loop_seam(seam, 2 * new, rate)  # the seam lies inside the continuation
            extended = _as_frames(self.extend(audio, rate, seconds, on_frame, **job_options))
            wrapped = np.concatenate([extended[n:], extended[:n]])  # [continuation | input]: the wrap is inside
            filled = _as_frames(self.inpaint(wrapped, rate, [(new / rate - seam, new / rate)], on_frame, **job_options))
            out = np.concatenate([frames, filled[:new]])
        return out[:, 0] if np.asarray(audio).ndim == 1 else out

    def candidates(self, audio: np.ndarray, sample_rate: int, seconds: float, count: int = 4,
                   on_frame: FrameCallback | None = None, **job_options) -> list[Candidate]:
        """``count`` continuations of ``audio`` from one batched run, best first.

        Candidate c starts every frame from the noise that ``seed + c`` would (:func:`extend.frames.run_frames`).
        They are ranked by how well the new audio's level meets the input's across the seam,
        ``seam_db`` = |20 log10(RMS of the first 0.1 s new / RMS of the last 0.1 s of the input)|:
        a model that fades or bursts at the seam scores high. Each ``audio`` is what
        :meth:`extend` returns (input bit-exact, then the continuation).
        """
        if not (is_integer(count) and 1 <= count <= MAX_CANDIDATES):
            raise UserError(f"candidates must be an integer from 1 to {MAX_CANDIDATES}, got {count}")
        job = self.job(**job_options)
        outs, generated, mono = self._continue(audio, sample_rate, seconds, job, on_frame, int(count))
        window = max(1, int(0.1 * self.sample_rate))
        before = float(np.sqrt(np.mean(np.square(mono[-window:], dtype=np.float64))))
        out = []
        for c, (full, row) in enumerate(zip(outs, generated)):
            after = float(np.sqrt(np.mean(np.square(row[:window], dtype=np.float64))))
            seam_db = abs(20.0 * math.log10(max(after, 1e-9) / max(before, 1e-9)))
            out.append(Candidate(full, job.seed + c, seam_db))
        return sorted(out, key=lambda cand: cand.seam_db)

    def extend(self, audio: np.ndarray, sample_rate: int, seconds: float, on_frame: FrameCallback | None = None,
               **job_options) -> np.ndarray:
        """Return ``audio`` followed by ``seconds`` of continuation, at ``sample_rate``.

        The result has the input's layout ([L] or [L, C]); its first L samples are the
        input, bit-exact. Returns float64 [L + round(seconds * sample_rate), (C)].
        """
        return self._continue(audio, sample_rate, seconds, self.job(**job_options), on_frame)[0][0]

    def _continue(self, audio: np.ndarray, sample_rate: int, seconds: float, job: Job,
                  on_frame: FrameCallback | None, count: int = 1) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """The input followed by each of ``count`` continuations (the input's layout), the generated
        model-rate audio [K, M], and the model-rate input [L]."""
        frames = _as_frames(audio)
        mono = self._model_input(audio, sample_rate)
        n_out = int(round(duration_ok(seconds, MAX_SECONDS, "seconds", rate_ok(sample_rate)) * sample_rate))
        n_model = n_out if sample_rate == self.sample_rate else math.ceil(n_out * self.sample_rate / sample_rate) + 32
        generated = np.concatenate([chunk.reshape(count, -1) for chunk in
                                    self._run(mono, n_model, job, on_frame, candidates=count)], axis=1)  # [K, M]
        outs = []
        for row in generated:
            cont = continuation_at_rate(frames, int(sample_rate), mono, row, self.sample_rate, n_out, job.plan.fade)
            full = np.concatenate([frames, cont], axis=0)
            outs.append(full[:, 0] if np.asarray(audio).ndim == 1 else full)
        return outs, generated, mono


def continuation_at_rate(original: np.ndarray, rate: int, mono: np.ndarray, generated: np.ndarray,
                         model_rate: int, n_out: int, fade_model: int) -> np.ndarray:
    """Generated model-rate audio -> [n_out, C] at ``rate``, joined without a step to ``original``.

    The continuation is resampled together with a short model-rate tail of the input (so the
    resampler has real left context), then each channel gets a residual fade
    (:func:`extend.seam.residual_fade`) against its own last input sample.
    """
    tail = mono[-int(RESAMPLE_TAIL_S * model_rate):]
    joined = resample(np.concatenate([tail, generated]).astype(np.float64), model_rate, rate)
    start = max(1, int(round(len(tail) * rate / model_rate))) if rate != model_rate else len(tail)
    cont = joined[start : start + n_out]
    if len(cont) < n_out:  # resampler edge: hold the last value for the few missing samples
        cont = np.concatenate([cont, np.full(n_out - len(cont), cont[-1] if len(cont) else 0.0)])
    fade = max(1, int(round(fade_model * rate / model_rate)))
    channels = original.shape[1]
    cont = np.repeat(cont[:, None], channels, axis=1)
    cont = residual_fade(original[-1, :], joined[start - 1], cont, fade)
    return np.clip(cont, -1.0, 1.0)
