"""Gap filling: inpaint [start, end) of known audio, seeing both sides where it can.

A gap is filled left to right in chunks of at most ``plan.new`` samples. Each chunk's frame is
[left context | chunk | right context]: the left context is the audio before the chunk (the
real audio, or chunks already filled), cropped like an extension frame; the last chunk also
gets the known audio after the gap, so the right seam is inpainted, not just spliced. Both
seams then get a residual fade (:func:`extend.seam.residual_fade`), the right one mirrored, so
the output is continuous where the generated audio meets the user's.
Shapes: audio here is mono float32 at the model rate, [L]; positions are sample indices.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

from diffwave.io.errors import UserError
from diffwave.io.numbers import is_number
from diffwave.schedule import Schedule

from .frames import FramePlan, frame_generator
from .guide import Guide, two_sided
from .samplers import Sampler
from .seam import residual_fade

MAX_GAP_S = 60.0  # one gap; longer holes are generation, not repair: use extend
ChunkCallback = Callable[[int, int, np.ndarray], None]  # (chunk index, chunks in the gap, its audio [<= new])


def chunk_count(start: int, end: int, plan: FramePlan) -> int:
    return math.ceil((end - start) / plan.new)


@torch.no_grad()
def fill_gap(model: torch.nn.Module, audio: np.ndarray, start: int, end: int, sampler: Sampler, schedule: Schedule,
             plan: FramePlan, seed: int = 0, options: dict | None = None, first_frame: int = 0,
             on_chunk: ChunkCallback | None = None, guide: Guide | None = None,
             backward: Guide | None = None) -> np.ndarray:
    """Return ``audio`` [L] with [start, end) generated (a new array; the rest is unchanged).

    Chunk k draws its noise from the generator of frame ``first_frame + k``
    (:func:`extend.frames.frame_generator`), so a fill is a function of ``seed``. ``guide``
    (:mod:`extend.guide`) puts a guess in the chunk from the audio before it, and for the last
    chunk the audio after the gap too, from which a shortened ``schedule`` starts; ``backward``
    guesses the right side's part in reversed time (:func:`extend.guide.two_sided`).
    """
    if not 0 <= start < end <= len(audio):
        raise ValueError(f"gap [{start}, {end}) is not inside audio of {len(audio)} samples")
    device = next(model.parameters()).device
    out = np.array(audio, dtype=np.float32, copy=True)
    total = chunk_count(start, end, plan)
    for k in range(total):
        a, b = start + k * plan.new, min(start + (k + 1) * plan.new, end)
        left = out[a - plan.known_length(a) : a]
        right = out[end : end + plan.known_length(len(out) - end)] if b == end else out[:0]
        frame = np.concatenate([left, np.zeros(b - a, dtype=np.float32), right])
        mask = torch.ones(len(frame), device=device)
        mask[len(left) : len(left) + b - a] = 0.0
        known = (torch.from_numpy(frame).to(device) * plan.scale * mask).unsqueeze(0)
        if guide is not None:  # the guess between the sides this chunk sees (extend.guide.two_sided)
            before = out[max(0, a - plan.context) : a]
            after = out[end : end + plan.context] if b == end else out[:0]
            guess = two_sided(guide, before, after, b - a, backward)
            known[0, len(left) : len(left) + b - a] = torch.from_numpy(guess).to(device) * plan.scale
        gen = frame_generator(seed, first_frame + k, device)
        noise = torch.randn(1, len(frame), generator=gen, device=device)
        x = sampler(model, noise, known, mask, schedule, gen, **(options or {}))[0].float().cpu().numpy() / plan.scale
        new = x[len(left) : len(left) + b - a]
        if len(left):
            new = residual_fade(left[-1], x[len(left) - 1], new, plan.fade)
        if len(right):
            new = residual_fade(right[0], x[len(left) + b - a], new[::-1], plan.fade)[::-1]
        out[a:b] = np.clip(new, -1.0, 1.0)
        if on_chunk is not None:
            on_chunk(k, total, out[a:b])
    return out


def gap_at_rate(original: np.ndarray, rate: int, start: int, end: int, filled: np.ndarray, model_rate: int,
                fade: int, pad_s: float = 0.1) -> np.ndarray:
    """The filled gap [end - start, C] at the input's ``rate``, for ``original`` [N, C].

    ``filled`` [M] is the mono model-rate audio after :func:`fill_gap`. Around the gap it is
    resampled with ``pad_s`` of context on each side (so the resampler sees real audio), then
    each channel gets residual fades against its own samples just outside the gap: the new
    audio is continuous with what the user had at both ends.
    """
    from diffwave.io.audio import resample

    n = original.shape[0]
    if rate == model_rate:
        lo, seg_all = 0, filled.astype(np.float64)
    else:
        pad = int(pad_s * model_rate)
        m0 = max(0, int(math.floor(start * model_rate / rate)) - pad)
        m1 = min(len(filled), int(math.ceil(end * model_rate / rate)) + pad)
        seg_all = resample(filled[m0:m1].astype(np.float64), model_rate, rate)
        lo = int(round(m0 * rate / model_rate))
    idx = np.clip(np.arange(start - 1, end + 1) - lo, 0, len(seg_all) - 1)  # edge-hold at the resampler's ends
    around = seg_all[idx]  # [G + 2]: the sample before the gap, the gap, the sample after
    cont = np.repeat(around[1:-1, None], original.shape[1], axis=1)
    fade_r = max(1, int(round(fade * rate / model_rate)))
    if start > 0:
        cont = residual_fade(original[start - 1], around[0], cont, fade_r)
    if end < n:
        cont = residual_fade(original[end], around[-1], cont[::-1], fade_r)[::-1]
    return np.clip(cont, -1.0, 1.0)


def check_loop_seam(seam: float, frames: int, rate: int) -> None:
    """The seconds inpainted across a loop's wrap: positive, at most half the clip and MAX_GAP_S."""
    limit = min(MAX_GAP_S, 0.5 * frames / rate)
    if not (is_number(seam) and math.isfinite(seam) and 0 < seam <= limit):
        raise UserError(f"the loop seam must be a number of seconds in (0, {limit:g}] (half the clip, at most "
                        f"{MAX_GAP_S:g} s), got {seam}")
    if round(seam * rate) < 1:
        raise UserError(f"the loop seam {seam:g} s is shorter than one sample at {rate} Hz")


def gap_samples(gaps: Sequence, rate: int, frames: int) -> list[tuple[int, int]]:
    """Gaps as (start_s, end_s) pairs -> sorted sample ranges [start, end) at ``rate``, or a
    one-line UserError: outside the audio, empty, longer than MAX_GAP_S, overlapping, or
    leaving nothing known."""
    try:
        pairs = [(g[0], g[1]) for g in gaps]
    except (TypeError, IndexError, KeyError):
        raise UserError("gaps must be (start, end) pairs of seconds, e.g. [(12.3, 12.8)]") from None
    if not pairs:
        raise UserError("give at least one gap")
    out = []
    duration = frames / rate
    for a, b in pairs:
        if not (is_number(a) and is_number(b) and math.isfinite(a) and math.isfinite(b)):
            raise UserError(f"gap {a!r}-{b!r}: start and end must be numbers of seconds")
        if not 0 <= a < b <= duration:
            raise UserError(f"gap {a:g}-{b:g} s is not inside the audio (0-{duration:g} s, start before end)")
        if b - a > MAX_GAP_S:
            raise UserError(f"gap {a:g}-{b:g} s is longer than {MAX_GAP_S:g} s")
        start, end = int(round(a * rate)), int(round(b * rate))
        if end <= start:
            raise UserError(f"gap {a:g}-{b:g} s is shorter than one sample at {rate} Hz")
        out.append((start, end))
    out.sort()
    for (a0, b0), (a1, b1) in zip(out, out[1:]):
        if a1 < b0:
            raise UserError(f"gaps {a0 / rate:g}-{b0 / rate:g} s and {a1 / rate:g}-{b1 / rate:g} s overlap")
    merged: list[tuple[int, int]] = []
    for a, b in out:  # gaps that touch are one gap: no real sample between them to fade against
        if merged and a == merged[-1][1]:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    out = merged
    for a, b in out:
        if b - a > MAX_GAP_S * rate:
            raise UserError(f"gaps joined at {a / rate:g}-{b / rate:g} s make one gap longer than {MAX_GAP_S:g} s")
    if sum(b - a for a, b in out) >= frames:
        raise UserError("the gaps cover the whole audio: nothing is left to fill them from")
    return out
