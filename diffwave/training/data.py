"""Training data: a folder of audio files held in memory as mono float32 at the model rate,
served as random crops. Randomness is counter-based (seed, step, rank) so that a resumed run
draws exactly the crops it would have drawn without the stop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..io.audio import load_mono
from ..io.errors import UserError

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}


def find_audio(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"data folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    if not files:
        raise UserError(f"no audio files (wav/flac/ogg/mp3) found under {folder}")
    return files


def step_generator(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """A generator seeded from (seed, step, rank): randomness needs no state to resume."""
    g = torch.Generator()
    g.manual_seed((seed * 1_000_003 + step * 65_537 + rank * 257) % (2**63 - 1))
    return g


class CropSampler:
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
    def from_folder(cls, folder: str | Path, rate: int, crop: int) -> "CropSampler":
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
