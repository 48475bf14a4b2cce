"""Shared fixtures: tiny random models and generated audio; everything in tmp_path."""

from __future__ import annotations

import os
import tempfile

# Library caches (matplotlib fonts, numba JIT via librosa) go to a temp dir, not to ~.
_CACHE = tempfile.mkdtemp(prefix="diffwave-extend-tests-")
os.environ.setdefault("MPLCONFIGDIR", os.path.join(_CACHE, "matplotlib"))
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(_CACHE, "numba"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from diffwave.config import ModelConfig  # noqa: E402
from diffwave.model import DiffWave  # noqa: E402

TINY = ModelConfig(sample_rate=8000, residual_channels=4, residual_layers=4, dilation_cycle=2, num_steps=20,
                   beta_start=1e-4, beta_end=0.2)


# One case per sampler for tests that run them all: knobs that make it cheap on tiny schedules and
# random enough to tell seeds apart (ddim's default eta = 0 ignores the generator).
SAMPLER_CASES = {"repaint": {"jump_length": 2, "resample": 2}, "ddim": {"eta": 1.0}}


def sampler_case(name: str) -> dict:
    """The knobs a test passes to sampler ``name`` (a fresh dict)."""
    return dict(SAMPLER_CASES.get(name, {}))


def tiny_model(seed: int = 0, config: ModelConfig = TINY) -> DiffWave:
    """A tiny random net whose output layer is not zero (so outputs depend on inputs)."""
    torch.manual_seed(seed)
    model = DiffWave(config)
    torch.nn.init.normal_(model.output_projection.weight, std=0.5)
    return model.eval()


def piano_like(seconds: float, rate: int, f0: float = 220.0, seed: int = 0) -> np.ndarray:
    """Decaying harmonic notes, a new note every 0.5 s: mono float32 in [-1, 1]. [L]"""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for start in np.arange(0, seconds, 0.5):
        f = f0 * 2 ** (rng.integers(-5, 8) / 12)
        tt = t - start
        on = tt >= 0
        for k in range(1, 5):
            out[on] += 0.3 / k * np.sin(2 * np.pi * k * f * tt[on]) * np.exp(-3 * tt[on])
    return (0.8 * out / np.abs(out).max()).astype(np.float32)


@pytest.fixture
def tiny():
    return tiny_model()


@pytest.fixture
def wav_dir(tmp_path):
    """A folder of three short generated 'piano' files at mixed rates and channel counts."""
    d = tmp_path / "data"
    d.mkdir()
    sf.write(d / "a.wav", piano_like(1.5, 8000, seed=1), 8000)
    sf.write(d / "b.flac", np.stack([piano_like(1.0, 16000, seed=2)] * 2, axis=1), 16000)
    sf.write(d / "c.wav", piano_like(1.2, 11025, seed=3), 11025, subtype="PCM_16")
    return d


def pytest_sessionfinish(session, exitstatus):
    """The caches' temporary folder goes when the run ends (no leftovers in the temp dir)."""
    import shutil

    shutil.rmtree(_CACHE, ignore_errors=True)
