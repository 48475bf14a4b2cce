"""Model files: safetensors round trip, reference import, refusal of unsafe pickles."""

import pickle
import sys
import types

import pytest
import torch

from diffwave.checkpoint import load_model, save_model
from diffwave.io.errors import UserError


def test_safetensors_round_trip_is_bit_exact(tmp_path, tiny):
    """Saving then loading gives identical weights, config and outputs."""
    path = tmp_path / "m.safetensors"
    save_model(path, tiny)
    loaded = load_model(path)
    assert loaded.config == tiny.config
    for (k, a), (_, b) in zip(tiny.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    x = torch.randn(2, 100)
    assert torch.equal(tiny(x, torch.tensor([1, 2])), loaded(x, torch.tensor([1, 2])))


def _reference_checkpoint(path, model, monkeypatch):
    """Write a dict shaped like lmnt-com/diffwave's weights-*.pt, params as its AttrDict."""
    module = types.ModuleType("diffwave.params")

    class AttrDict(dict):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.__dict__ = self

    AttrDict.__module__ = "diffwave.params"
    AttrDict.__qualname__ = "AttrDict"
    module.AttrDict = AttrDict
    monkeypatch.setitem(sys.modules, "diffwave.params", module)
    c = model.config
    betas = torch.linspace(c.beta_start, c.beta_end, c.num_steps, dtype=torch.float64).tolist()
    params = AttrDict(sample_rate=c.sample_rate, residual_channels=c.residual_channels, residual_layers=c.residual_layers,
                      dilation_cycle_length=c.dilation_cycle, noise_schedule=betas, unconditional=True)
    torch.save({"step": 123, "model": model.state_dict(), "optimizer": {}, "params": params, "scaler": {}}, path)
    monkeypatch.delitem(sys.modules, "diffwave.params")


def test_reference_checkpoint_loads_with_identical_outputs(tmp_path, tiny, monkeypatch):
    """A reference-format checkpoint (reference key names) loads and gives identical outputs."""
    path = tmp_path / "weights-123.pt"
    _reference_checkpoint(path, tiny, monkeypatch)
    loaded = load_model(path)
    assert loaded.config == tiny.config
    x = torch.randn(1, 300)
    t = torch.tensor([2.5])
    assert torch.equal(tiny(x, t), loaded(x, t))


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_code_running_pickle_is_refused(tmp_path):
    """A pickle that would run code on load is refused, and the code does not run."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"model": {}, "params": _Exploit(str(marker))}, f)
    with pytest.raises(UserError, match="refused"):
        load_model(path)
    assert not marker.exists()


def test_mismatched_weights_name_the_first_problem(tmp_path, tiny):
    """Shape and key mismatches are errors that name the offending weight."""
    path = tmp_path / "m.safetensors"
    save_model(path, tiny)
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    state = load_file(str(path))
    state["skip_projection.weight"] = torch.zeros(2, 2, 1)
    save_file(state, str(path), metadata=meta)
    with pytest.raises(UserError, match="skip_projection.weight"):
        load_model(path)
    del state["skip_projection.weight"]
    save_file(state, str(path), metadata=meta)
    with pytest.raises(UserError, match="missing weight 'skip_projection.weight'"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"not a model at all, just text\n" * 10])
def test_non_model_files_are_refused(tmp_path, content):
    """Empty files and arbitrary bytes give a one-line UserError."""
    path = tmp_path / "junk.bin"
    path.write_bytes(content)
    with pytest.raises(UserError):
        load_model(path)


def _forged(path, tiny, **config_changes):
    """A safetensors file with the tiny model's weights and a config that says otherwise."""
    import json

    from safetensors.torch import save_file

    config = {**json.loads(tiny.config.to_json()), **config_changes}
    state = {k: v.contiguous() for k, v in tiny.state_dict().items()}
    save_file(state, str(path), metadata={"format": "diffwave-extend/1", "config": json.dumps(config)})
    return path


@pytest.mark.parametrize("change, message", [
    (dict(residual_channels=8192), "residual_channels must be in [1, 512]"),
    (dict(num_steps=10**9), "num_steps must be in"),
    (dict(dilation_cycle=64), "dilation_cycle must be in"),
    (dict(sample_rate=10**12), "sample_rate must be in"),
    (dict(num_steps=2.5), "num_steps must be an integer"),
    (dict(data_scale="4"), "data_scale must be a finite number"),
    (dict(residual_channels=512, residual_layers=64), "has shape"),  # in range, but not these weights
])
def test_a_forged_config_is_refused_before_any_network_is_built(tmp_path, tiny, change, message):
    """Out-of-range or mistyped config fields, and configs the weights do not match: one line."""
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_model(_forged(tmp_path / "m.safetensors", tiny, **change))


def test_a_forged_large_config_costs_little_memory_and_time(tmp_path, tiny):
    """C512/L64 (170 M parameters, 680 MB) claimed by a small file: refused within 0.5 s and 30 MB."""
    import subprocess
    import sys

    path = _forged(tmp_path / "big.safetensors", tiny, residual_channels=512, residual_layers=64)
    code = ("import resource, time, torch; from diffwave.checkpoint import load_model; from diffwave.io.errors import UserError\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; t = time.perf_counter()\n"
            f"try:\n    load_model({str(path)!r})\nexcept UserError:\n    pass\n"
            "print(time.perf_counter() - t, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)")
    seconds, megabytes = map(float, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                   check=True).stdout.split())
    assert seconds < 0.5 and megabytes < 30  # building even a meta skeleton first cost 0.9 s and 60 MB


def test_non_finite_weights_are_refused(tmp_path, tiny):
    """A model whose weights hold NaN or inf would write full-scale DC; it is refused instead."""
    for bad in (float("nan"), float("inf")):
        from .conftest import tiny_model

        broken = tiny_model()
        with torch.no_grad():
            broken.skip_projection.weight[0, 0, 0] = bad
        path = tmp_path / "broken.safetensors"
        save_model(path, broken)
        with pytest.raises(UserError, match="'skip_projection.weight' holds NaN or infinite"):
            load_model(path)


def test_an_audio_file_passed_as_a_model_is_one_line(tmp_path):
    """A WAV given as --model is 'not a model file', not an IndexError."""
    import numpy as np
    import soundfile as sf

    path = tmp_path / "song.wav"
    sf.write(path, np.zeros(800), 8000)
    with pytest.raises(UserError, match="not a model file"):
        load_model(path)


def test_reference_params_out_of_range_are_one_line(tmp_path, tiny):
    """A reference .pt whose params claim a dilation cycle of 64 is refused before building."""
    state = tiny.state_dict()
    path = tmp_path / "ref.pt"
    schedule = torch.linspace(1e-4, 0.2, 20).tolist()
    torch.save({"model": state, "params": {"noise_schedule": schedule, "dilation_cycle_length": 64}}, path)
    with pytest.raises(UserError, match="out of range"):
        load_model(path)
