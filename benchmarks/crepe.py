"""torchcrepe without torchaudio.

torchcrepe imports torchaudio for one file loader we never use, and PyPI's torchaudio does
not load next to torch 2.13. If importing torchaudio fails, an empty stand-in module is put
in its place while torchcrepe is imported, and taken out again. This is the only place that
knows about it.

torchcrepe also dithers every decoded pitch by up to one 20-cent bin with scipy's global RNG,
so two runs on the same audio disagree (by 38 Hz at the top of the range, measured). Pitch
here is the Viterbi bin's centre instead: deterministic, and well inside the 3 % (51 cent)
accuracy tolerance.
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
BIN0_CENTS = 1997.3794084376191  # torchcrepe's pitch of bin 0, in cents above 10 Hz (convert.bins_to_cents)


def load_torchcrepe():
    """torchcrepe, imported with an empty torchaudio stand-in if the real one does not load.

    The stand-in is in ``sys.modules`` only while torchcrepe imports, so the rest of the
    process sees torchaudio as it is (torchcrepe keeps its own reference to the stand-in).
    """
    if "torchcrepe" in sys.modules:
        return sys.modules["torchcrepe"]
    try:
        import torchaudio  # noqa: F401
    except Exception:  # OSError from its C extension, or not installed
        stub = types.ModuleType("torchaudio")
        sys.modules["torchaudio"] = stub
        try:
            return importlib.import_module("torchcrepe")
        finally:
            if sys.modules.get("torchaudio") is stub:
                del sys.modules["torchaudio"]
    return importlib.import_module("torchcrepe")


def _tensor(audio: np.ndarray, rate: int) -> torch.Tensor:
    if rate != CREPE_RATE:
        from diffwave.io.audio import resample

        audio = resample(np.asarray(audio, dtype=np.float64), rate, CREPE_RATE)
    return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]


def pitch(audio: np.ndarray, rate: int, model: str = "tiny") -> tuple[np.ndarray, np.ndarray]:
    """CREPE f0 [frames] (Hz, Viterbi-decoded) and periodicity [frames], hop 10 ms."""
    crepe = load_torchcrepe()
    with torch.no_grad():
        f0, periodicity = crepe.predict(_tensor(audio, rate), CREPE_RATE, HOP, FMIN, FMAX, model, return_periodicity=True,
                                        batch_size=512, device="cpu", decoder=_viterbi_bin_centres)
    return f0[0].numpy(), periodicity[0].numpy()


def _viterbi_bin_centres(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """torchcrepe's Viterbi decoder, with the undithered pitch of each bin. [B, 360, T] -> [B, T] x 2"""
    crepe = load_torchcrepe()
    bins, _dithered = crepe.decode.viterbi(logits)
    return bins, crepe.convert.cents_to_frequency(crepe.CENTS_PER_BIN * bins.to(torch.float64) + BIN0_CENTS).float()


def embedding(audio: np.ndarray, rate: int, model: str = "tiny") -> np.ndarray:
    """CREPE penultimate-layer embeddings, one row per 10 ms frame. [frames, D]"""
    crepe = load_torchcrepe()
    with torch.no_grad():
        emb = crepe.embed(_tensor(audio, rate), CREPE_RATE, HOP, model, batch_size=512, device="cpu")
    return emb[0].reshape(emb.shape[1], -1).numpy()
