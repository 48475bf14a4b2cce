"""torchcrepe without torchaudio.

torchcrepe imports torchaudio for one file loader we never use, and PyPI's torchaudio does
not load next to torch 2.13. If importing torchaudio fails, an empty stand-in module is put
in its place before torchcrepe is imported. This is the only place that knows about it.
"""

from __future__ import annotations

import importlib
import sys
import types

import numpy as np
import torch

CREPE_RATE = 16000
HOP = 160  # 10 ms at 16 kHz
FMIN, FMAX = 40.0, 2000.0


def load_torchcrepe():
    try:
        import torchaudio  # noqa: F401
    except Exception:  # OSError from its C extension, or not installed
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    return importlib.import_module("torchcrepe")


def _tensor(audio: np.ndarray, rate: int) -> torch.Tensor:
    if rate != CREPE_RATE:
        from diffwave.audio import resample

        audio = resample(np.asarray(audio, dtype=np.float64), rate, CREPE_RATE)
    return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]


def pitch(audio: np.ndarray, rate: int, model: str = "tiny") -> tuple[np.ndarray, np.ndarray]:
    """CREPE f0 [frames] (Hz, Viterbi-decoded) and periodicity [frames], hop 10 ms."""
    crepe = load_torchcrepe()
    with torch.no_grad():
        f0, periodicity = crepe.predict(_tensor(audio, rate), CREPE_RATE, HOP, FMIN, FMAX, model, return_periodicity=True,
                                        batch_size=512, device="cpu", decoder=crepe.decode.viterbi)
    return f0[0].numpy(), periodicity[0].numpy()


def embedding(audio: np.ndarray, rate: int, model: str = "tiny") -> np.ndarray:
    """CREPE penultimate-layer embeddings, one row per 10 ms frame. [frames, D]"""
    crepe = load_torchcrepe()
    with torch.no_grad():
        emb = crepe.embed(_tensor(audio, rate), CREPE_RATE, HOP, model, batch_size=512, device="cpu")
    return emb[0].reshape(emb.shape[1], -1).numpy()
