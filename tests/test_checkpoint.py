"""Model files: safetensors round trip, reference import, refusal of unsafe pickles."""

import pickle
import sys
import types

import pytest
import torch

from diffwave.checkpoint import load_model, save_model
from diffwave.errors import UserError


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
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

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
