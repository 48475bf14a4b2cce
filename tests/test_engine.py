"""Frame engine and Python API: lengths, bit-exact prefix, seams, cropping, streaming."""

import numpy as np
import pytest
import torch

from diffwave.io.errors import UserError
from diffwave.schedule import make_schedule
from extend import Extender
from extend.frames import plan_frames, run_frames
from extend.samplers import SAMPLERS
from extend.seam import residual_fade

from .conftest import piano_like, sampler_case, tiny_model

RATE = 8000


@pytest.fixture
def ex():
    from dataclasses import replace

    from .conftest import TINY

    return Extender(tiny_model(config=replace(TINY, mixed_levels=True)))  # runs every sampler, forcing too


FAST = dict(steps=6, new=0.1, context=0.5)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_output_length_and_bit_exact_prefix(ex, sampler):
    """Output is input + S seconds long, and the input samples come back unchanged."""
    audio = piano_like(0.7, RATE)
    opts = sampler_case(sampler)
    out = ex.extend(audio, RATE, 0.25, sampler=sampler, **FAST, **opts)
    assert out.shape == (len(audio) + 2000,)
    assert np.array_equal(out[: len(audio)], audio)
    assert np.isfinite(out).all() and np.abs(out).max() <= 1.0


def test_other_rate_and_stereo_keep_the_input_exact(ex):
    """At 44.1 kHz stereo the prefix is exact, the length exact, and each channel is continuous."""
    mono = piano_like(0.5, 44100)
    stereo = np.stack([mono, -0.5 * mono], axis=1).astype(np.float64)
    out = ex.extend(stereo, 44100, 0.2, sampler="naive", **FAST)
    assert out.shape == (len(stereo) + 8820, 2)
    assert np.array_equal(out[: len(stereo)], stereo)
    step = np.abs(out[len(stereo)] - stereo[-1])
    assert (step < 0.05).all()


def test_same_seed_same_output_and_seed_matters(ex):
    """The whole extension is deterministic given the seed."""
    audio = piano_like(0.5, RATE)
    a = ex.extend(audio, RATE, 0.2, seed=3, **FAST)
    b = ex.extend(audio, RATE, 0.2, seed=3, **FAST)
    c = ex.extend(audio, RATE, 0.2, seed=4, **FAST)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_bf16_keeps_the_prefix_and_stays_near_fp32(ex):
    """bf16 autocast changes the numbers a little, not the contract: exact prefix, exact length,
    and on CPU 'auto' is fp32 (the same output as asking for fp32)."""
    audio = piano_like(0.5, RATE)
    out = {p: ex.extend(audio, RATE, 0.2, sampler="lambda", precision=p, **FAST) for p in ("fp32", "bf16", "auto")}
    assert np.array_equal(out["auto"], out["fp32"])
    assert np.array_equal(out["bf16"][: len(audio)], audio) and out["bf16"].shape == out["fp32"].shape
    new32, new16 = out["fp32"][len(audio):], out["bf16"][len(audio):]
    assert not np.array_equal(new32, new16)
    assert np.sqrt(np.mean((new32 - new16) ** 2)) < 0.1 * np.sqrt(np.mean(new32**2))


def test_input_shorter_than_context_uses_all_of_it(ex):
    """A 30 ms input with 0.5 s context: the whole input is the known region; length exact."""
    audio = piano_like(0.03, RATE)
    out = ex.extend(audio, RATE, 0.2, **FAST)
    assert len(out) == len(audio) + 1600
    assert np.array_equal(out[: len(audio)], audio)
    one = np.array([0.25])  # a single sample at half the model rate still works
    out = ex.extend(one, 4000, 0.1, **FAST)
    assert len(out) == 401 and out[0] == 0.25


def test_stream_yields_each_frame_and_can_run_forever(ex):
    """stream() yields frame-sized chunks as they are made; seconds=None never stops by itself."""
    audio = piano_like(0.3, RATE)
    seen = []
    chunks = list(ex.stream(audio, RATE, 0.25, on_frame=lambda i, n, c: seen.append((i, n, len(c))), **FAST))
    assert [len(c) for c in chunks] == [800, 800, 400]
    assert seen == [(0, 3, 800), (1, 3, 800), (2, 3, 400)]
    endless = ex.stream(audio, RATE, None, **FAST)
    assert sum(len(next(endless)) for _ in range(5)) == 4000
    with pytest.raises(UserError, match="unknown sampler"):
        ex.stream(audio, RATE, 1.0, sampler="nope")  # raised at the call, before any iteration


def test_seam_fade_removes_the_step():
    """The residual fade makes the output continuous at the seam and leaves the rest alone."""
    cont = np.full(100, 0.3)
    fixed = residual_fade(0.5, 0.3, cont, 20)
    assert fixed[0] == pytest.approx(0.5)
    assert np.allclose(fixed[20:], 0.3)
    assert np.all(np.diff(fixed[:21]) <= 1e-12)


def test_cropping_keeps_each_pass_exact_beyond_the_receptive_field():
    """A network pass on a frame cropped to >= 1 receptive radius gives the same output after the seam."""
    model = tiny_model().double()
    r = model.receptive_radius
    x = torch.randn(1, 400, dtype=torch.float64)
    seam = 300
    full = model(x, torch.tensor([3.0]))[0, seam:]
    cropped = model(x[:, seam - r :], torch.tensor([3.0]))[0, r:]
    assert torch.allclose(full, cropped, atol=1e-12)


def test_cropped_naive_matches_uncropped_statistics():
    """Cropped and uncropped frames give continuations of the same level (same model, same seed)."""
    model = tiny_model()
    audio = piano_like(1.0, RATE)
    schedule = make_schedule(model.config, 5)
    outs = {}
    for crop in (True, False):
        plan = plan_frames(model, 1.0, 0.1, crop=crop, crop_fields=2)
        outs[crop] = np.concatenate(list(run_frames(model, audio, 800, SAMPLERS["naive"], schedule, plan, seed=0)))
    assert outs[True].shape == outs[False].shape == (800,)
    ratio = outs[True].std() / outs[False].std()
    assert 0.7 < ratio < 1.4


@pytest.mark.parametrize("bad, message", [
    (dict(sampler="nope"), "unknown sampler"),
    (dict(steps=0), "steps must be"),
    (dict(steps=10_000), "steps must be"),
    (dict(new=float("nan")), "new must be"),
    (dict(context=-1.0), "context must be"),
    (dict(sampler="naive", jump_length=3), "has no option 'jump_length'"),
    (dict(sampler="repaint", jump_length=50, steps=10), "jump_length"),
    (dict(precision="fp16"), "precision must be one of auto, fp32, bf16"),
])
def test_bad_options_are_one_line_errors(ex, bad, message):
    """Every invalid option gives a UserError naming the problem."""
    with pytest.raises(UserError, match=message):
        ex.extend(piano_like(0.2, RATE), RATE, 0.1, **{**FAST, **bad})


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 3601])
def test_bad_seconds(ex, seconds):
    """Durations must be finite, positive and at most an hour."""
    with pytest.raises(UserError, match="seconds"):
        ex.extend(piano_like(0.2, RATE), RATE, seconds, **FAST)


def test_a_duration_shorter_than_one_sample_is_one_line(ex):
    """seconds=1e-6 rounds to no samples: a UserError in extend and stream, not a ValueError."""
    with pytest.raises(UserError, match="shorter than one sample at 8000 Hz"):
        ex.extend(piano_like(0.2, RATE), RATE, 1e-6, **FAST)
    with pytest.raises(UserError, match="shorter than one sample"):
        ex.stream(piano_like(0.2, RATE), RATE, 1e-6, **FAST)


def test_numpy_scalars_are_accepted_and_other_types_are_one_line(ex):
    """np.float32 seconds, np.int64 steps and rates work; None, strings and integer PCM are refused by name."""
    audio = piano_like(0.2, RATE)
    out = ex.extend(audio, np.int64(RATE), np.float32(0.1), **{**FAST, "steps": np.int64(4), "new": np.float32(0.1)})
    assert len(out) == len(audio) + 800
    for rate in (None, "8000", 8000.5):
        with pytest.raises(UserError, match="sample_rate must be an integer number of Hz"):
            ex.extend(audio, rate, 0.1, **FAST)
    with pytest.raises(UserError, match="integer PCM"):
        ex.extend((audio * 32767).astype(np.int16), RATE, 0.1, **FAST)


def test_readme_api_snippet_runs(tmp_path, monkeypatch):
    """The README's Python snippet runs as written (with a tiny model in place of the default)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "README has no python snippet"
    from dataclasses import replace

    from diffwave.checkpoint import save_model

    from .conftest import TINY

    model_path = tmp_path / "tiny.safetensors"
    save_model(model_path, tiny_model(config=replace(TINY, num_steps=50)))  # the defaults (50 steps) run too
    import soundfile as sf

    sf.write(tmp_path / "prompt.wav", piano_like(3.0, 16000), 16000)
    code = blocks[0].replace("Extender()", f"Extender({str(model_path)!r})").replace("steps=50", "steps=4")
    code = code.replace("extend/examples/clip01.flac", str(tmp_path / "prompt.wav"))
    monkeypatch.chdir(tmp_path)  # the snippet writes continued.wav to the working folder
    exec(compile(code, "README", "exec"), {"__name__": "readme"})
    assert sf.info(str(tmp_path / "continued.wav")).duration == pytest.approx(13.0, abs=1e-3)


def test_auto_precision_is_fp32_on_a_gpu_without_bf16(monkeypatch):
    """--precision auto picks bf16 only on a CUDA device that supports it (a T4 or V100 gets fp32)."""
    import torch

    from diffwave.runtime.precision import use_bf16

    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert use_bf16("auto", cuda) is False
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert use_bf16("auto", cuda) is True
    assert use_bf16("auto", torch.device("cpu")) is False and use_bf16("bf16", torch.device("cpu")) is True


def test_the_library_leaves_the_process_alone(monkeypatch, wav_dir, tmp_path):
    """Extender and training change neither the allocator nor the global RNG; importing the
    benchmark plots does not switch matplotlib's backend. Only entry points do such things."""
    import os
    import subprocess
    import sys

    import torch

    import extend.api
    from diffwave.training.config import TrainConfig
    from diffwave.training.loop import train

    from .conftest import TINY

    calls = []
    monkeypatch.setattr(extend.api, "retain_freed_memory", lambda: calls.append(1))
    model = tiny_model()
    rng = torch.get_rng_state()
    Extender(model).extend(piano_like(0.2, RATE), RATE, 0.1, **FAST)
    train(wav_dir, tmp_path / "run", TINY, TrainConfig(batch_size=2, crop_seconds=0.25, max_steps=2), torch.device("cpu"))
    assert not calls and torch.equal(torch.get_rng_state(), rng)
    code = "import matplotlib; import benchmarks.plots; print(matplotlib.get_backend())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "MPLBACKEND": "svg"}).stdout.strip()
    assert out == "svg"


def test_api_betas_run_a_fractional_fast_schedule(ex):
    """Extender.job(betas=...) aligns each step to a fractional training step, and every sampler runs on it."""
    job = ex.job(betas=[1e-4, 1e-3, 0.01, 0.05], new=0.1, context=0.5)
    steps = job.schedule.model_steps
    assert len(job.schedule) == 4 and any(float(t) != int(t) for t in steps)
    out = ex.extend(piano_like(0.2, RATE), RATE, 0.1, betas=[1e-4, 1e-3, 0.01, 0.05], new=0.1, context=0.5, sampler="repaint")
    assert len(out) == int(0.2 * RATE) + 800
    with pytest.raises(UserError, match="betas must be a list"):
        ex.job(betas=[])
