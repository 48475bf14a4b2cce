"""Training data: a folder of audio files held in memory as mono float32 at the model rate,
served as random crops. Randomness is counter-based (seed, step, rank) so that a resumed run
draws exactly the crops it would have drawn without the stop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..io.audio import load_mono
from ..io.errors import UserError
from ..runtime.rng import TRAINING_STEP, derived_generator

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}


def find_audio(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"data folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    if not files:
        raise UserError(f"no audio files (wav/flac/ogg/mp3) found under {folder}")
    return files


def step_generator(seed: int, step: int, rank: int = 0, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded from (seed, step, rank): randomness needs no state to resume
    (:data:`diffwave.runtime.rng.TRAINING_STEP`)."""
    return derived_generator(seed, (step, rank), TRAINING_STEP, device)


class RandomCrops:
    """Random fixed-length crops from a set of clips, sampled proportionally to length."""

    def __init__(self, clips: list[np.ndarray], crop: int):
        if crop < 1:
            raise ValueError("crop length must be positive")
        self.clips = [torch.from_numpy(np.ascontiguousarray(c, dtype=np.float32)) for c in clips if len(c)]
        if not self.clips:
            raise UserError("training data holds no audio samples")
        self.crop = crop
        self.weights = torch.tensor([float(len(c)) for c in self.clips], dtype=torch.float64)

    @classmethod
    def from_folder(cls, folder: str | Path, rate: int, crop: int) -> "RandomCrops":
        """Every audio file under ``folder``, or the pieces of a shard folder (:mod:`diffwave.shards`)."""
        from .shards import is_shard_folder, load_pieces

        if is_shard_folder(folder):
            return cls(load_pieces(folder, rate), crop)
        return cls([load_mono(p, rate) for p in find_audio(folder)], crop)

    @property
    def total_samples(self) -> int:
        return int(self.weights.sum())

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """[size, crop] float32; clips shorter than a crop are zero-padded at the end."""
        picks = torch.multinomial(self.weights, size, replacement=True, generator=generator)
        out = torch.zeros(size, self.crop)
        for row, k in enumerate(picks.tolist()):
            clip = self.clips[k]
            span = max(len(clip) - self.crop, 0)
            start = int(torch.randint(0, span + 1, (1,), generator=generator))
            piece = clip[start : start + self.crop]
            out[row, : len(piece)] = piece
        return out


class DeviceCrops:
    """The same crops as :class:`RandomCrops` draws them (clip by length, uniform start, zero
    padding), held as one flat tensor on the training device and cut there with index
    arithmetic: no Python loop, no host-to-device copy per step. Draws come from a generator on
    that device, so a run on it is a function of (seed, step, rank) as on the CPU path, but a
    different one."""

    def __init__(self, clips: list[torch.Tensor], crop: int, device: torch.device | str):
        if crop < 1:
            raise ValueError("crop length must be positive")
        clips = [c for c in clips if len(c)]
        if not clips:
            raise UserError("training data holds no audio samples")
        self.crop = crop
        self.audio = torch.cat([c.float() for c in clips]).to(device)  # [N]
        lengths = torch.tensor([len(c) for c in clips], dtype=torch.int64)
        self.starts = (torch.cumsum(lengths, 0) - lengths).to(device)  # [clips]
        self.lengths = lengths.to(device)
        self.weights = lengths.double().to(device)

    @classmethod
    def from_crops(cls, crops: RandomCrops, device: torch.device | str) -> "DeviceCrops":
        return cls(crops.clips, crops.crop, device)

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """[size, crop] float32 on the device, from a generator on the device."""
        device = self.audio.device
        picks = torch.multinomial(self.weights, size, replacement=True, generator=generator)
        span = (self.lengths[picks] - self.crop).clamp(min=0)  # [size]
        offset = (torch.rand(size, generator=generator, device=device, dtype=torch.float64) * (span + 1)).long()
        offset = torch.minimum(offset, span)
        pos = torch.arange(self.crop, device=device).unsqueeze(0)  # [1, crop]
        inside = pos < self.lengths[picks].unsqueeze(1)  # short clips: zero padding at the end
        index = (self.starts[picks] + offset).unsqueeze(1) + pos
        return torch.where(inside, self.audio[index.clamp(max=len(self.audio) - 1)], torch.zeros((), device=device))
