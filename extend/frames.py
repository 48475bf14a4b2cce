"""Frame stacking: extend audio by repeatedly inpainting [known context | new audio].

Each frame keeps the last ``context`` samples of the audio so far as the known region and
generates ``new`` samples after it. One network pass sees at most its receptive field, so
known audio far before the seam only costs time: with cropping, a frame keeps just
``margin`` known samples (a few receptive fields) and the cost per new second no longer
grows with ``context``. Frame k draws its initial noise from a generator seeded by
(seed, k), so every sampler starts frame k from the same noise.
Shapes: audio here is mono float32 at the model rate, [L].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from diffwave.model import DiffWave
from diffwave.runtime.rng import FRAME, derived_generator
from diffwave.schedule import Schedule

from .guide import Guide
from .samplers import Sampler
from .seam import residual_fade


@dataclass(frozen=True)
class FramePlan:
    context: int  # known samples per frame before cropping
    new: int  # generated samples per frame
    margin: int | None  # known samples kept before the seam (None: no cropping)
    fade: int  # seam residual-fade length in samples
    scale: float = 1.0  # the model's data_scale: audio is multiplied by it before sampling

    def known_length(self, available: int) -> int:
        k = min(self.context, available)
        return k if self.margin is None else min(k, self.margin)

    def frames_for(self, total_new: int) -> int:
        return math.ceil(total_new / self.new)


def plan_frames(model: DiffWave, context_s: float, new_s: float, crop: bool = True, crop_fields: float = 3.0,
                fade_s: float = 0.01) -> FramePlan:
    """Frame lengths in samples at the model rate; margin = crop_fields receptive fields."""
    rate = model.config.sample_rate
    context = max(1, int(round(context_s * rate)))
    new = max(1, int(round(new_s * rate)))
    margin = int(math.ceil(crop_fields * model.receptive_field)) if crop else None
    return FramePlan(context=context, new=new, margin=margin, fade=int(round(fade_s * rate)),
                     scale=float(model.config.data_scale))


def frame_generator(seed: int, frame: int, device: torch.device) -> torch.Generator:
    """Frame ``frame``'s generator (:data:`diffwave.runtime.rng.FRAME`)."""
    return derived_generator(seed, (frame,), FRAME, device)


@torch.no_grad()
def run_frames(model: torch.nn.Module, audio: np.ndarray, total_new: int, sampler: Sampler, schedule: Schedule,
               plan: FramePlan, seed: int = 0, options: dict | None = None,
               step_callback: Callable[[int, dict], None] | None = None, candidates: int = 1,
               guide: Guide | None = None) -> Iterator[np.ndarray]:
    """Yield the new audio of each frame (float32 [<= plan.new]) until ``total_new`` samples.

    ``audio`` [L] is the known audio (L >= 1); a shorter-than-context input is used whole.
    ``step_callback(frame, info)`` receives the sampler's per-step dict.
    ``candidates`` K > 1 runs K continuations as one batch and yields [K, <= plan.new]: each
    continues its own history, and candidate c starts every frame from the x_T that seed + c
    would (the batch's other draws come from seed's generator).
    ``guide(history [<= context], g, rank) -> [g]`` fills the generated region of ``known`` with a
    guess (:mod:`extend.guide`), from which a shortened ``schedule`` starts; without one it is 0.
    In the first frame candidate c asks for the guide's rank-c guess, so a guide that replays
    (match) starts each candidate on another passage; later frames run each one's own on.
    """
    device = next(model.parameters()).device
    history = np.repeat(np.asarray(audio, dtype=np.float32)[None, -plan.context :], candidates, axis=0)  # [K, L]
    produced, frame = 0, 0
    while produced < total_new:
        g = min(plan.new, total_new - produced)
        k = plan.known_length(history.shape[1])
        ctx = history[:, history.shape[1] - k :]  # [K, k]
        length = k + g
        known = torch.zeros(candidates, length, device=device)
        known[:, :k] = torch.from_numpy(np.ascontiguousarray(ctx)).to(device) * plan.scale
        if guide is not None:
            guess = np.stack([guide(history[c], g, c if frame == 0 else 0) for c in range(candidates)])  # [K, g]
            known[:, k:] = torch.from_numpy(guess).to(device) * plan.scale
        mask = torch.zeros(length, device=device)
        mask[:k] = 1.0
        gen = frame_generator(seed, frame, device)
        noise = torch.cat([torch.randn(1, length, generator=gen, device=device)]
                          + [torch.randn(1, length, generator=frame_generator(seed + c, frame, device), device=device)
                             for c in range(1, candidates)])
        cb = None if step_callback is None else (lambda info, f=frame: step_callback(f, info))
        x = sampler(model, noise, known, mask, schedule, gen, callback=cb, **(options or {})).float().cpu().numpy()
        x = x / plan.scale
        new = x[:, k:]
        if k:
            new = np.stack([residual_fade(ctx[c, -1], x[c, k - 1], new[c], plan.fade) for c in range(candidates)])
        new = np.clip(new, -1.0, 1.0).astype(np.float32)
        history = np.concatenate([history, new], axis=1)[:, -plan.context :]
        produced += g
        frame += 1
        yield new[0] if candidates == 1 else new
