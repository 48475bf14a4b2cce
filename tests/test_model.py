"""DiffWave network: shapes, receptive field, fractional step embedding."""

import pytest
import torch

from diffwave.config import ModelConfig
from diffwave.model import DiffWave, step_embedding_table

from .conftest import tiny_model


def test_output_shape(tiny):
    """The network maps [B, L] audio and [B] steps to a [B, L] epsilon estimate."""
    x = torch.randn(3, 257)
    assert tiny(x, torch.tensor([0, 5, 19])).shape == (3, 257)


def test_receptive_field_matches_impulse_response():
    """The computed receptive field equals the brute-force extent of input influence."""
    config = ModelConfig(sample_rate=8000, residual_channels=6, residual_layers=5, dilation_cycle=3, num_steps=10)
    model = tiny_model(seed=3, config=config).double()
    length, centre = 301, 150
    influence = torch.zeros(length, dtype=torch.float64)
    for trial in range(8):  # union over inputs: one input can zero an edge path through a ReLU
        x = torch.randn(1, length, dtype=torch.float64, generator=torch.Generator().manual_seed(trial), requires_grad=True)
        model(x, torch.tensor([4]))[0, centre].backward()
        influence += x.grad[0].abs()
    touched = (influence > 0).nonzero().flatten()
    measured = int(touched.max() - touched.min()) + 1
    assert measured == model.receptive_field == 1 + 2 * (1 + 2 + 4 + 1 + 2)
    assert model.receptive_radius == (model.receptive_field - 1) // 2


def test_paper_receptive_field():
    """C64/L30 with cycle 10 sees 6139 samples, as in the method notes."""
    assert DiffWave(ModelConfig()).receptive_field == 6139


def test_fractional_embedding_interpolates_rows(tiny):
    """A fractional step's table row is the linear interpolation of its neighbours."""
    table = step_embedding_table(20)
    emb = tiny.diffusion_embedding.lookup(torch.tensor([3.25, 7.0, 0.0]))
    assert torch.allclose(emb[0], 0.75 * table[3] + 0.25 * table[4], atol=1e-6)
    assert torch.allclose(emb[1], table[7])
    assert torch.allclose(emb[2], table[0])
    ints = tiny.diffusion_embedding(torch.tensor([7]))
    floats = tiny.diffusion_embedding(torch.tensor([7.0]))
    assert torch.allclose(ints, floats)


def test_v_parameterization_returns_eps():
    """A v-predicting net's forward is eps = sqrt(abar) v + sqrt(1-abar) x_t, also at fractional t."""
    from dataclasses import replace

    from diffwave.schedule import training_schedule

    from .conftest import TINY

    model = tiny_model(seed=2, config=replace(TINY, parameterization="v"))
    x = torch.randn(2, 200)
    abar = training_schedule(model.config).alpha_bars.float()
    t = torch.tensor([0, 13])
    a = abar[t].sqrt().unsqueeze(1)
    expected = a * model.network(x, t) + (1 - a * a).sqrt() * x
    assert torch.allclose(model(x, t), expected, atol=1e-6)
    # halfway between steps 4 and 5, sqrt(abar) is the midpoint (the fast-schedule alignment's rule)
    mid = model.sqrt_alpha_bar_at(torch.tensor([4.5]))
    assert torch.allclose(mid, (abar[4].sqrt() + abar[5].sqrt()) / 2)


def test_a_config_from_an_older_checkpoint_keeps_its_meaning():
    """Config JSON without the newer fields loads as eps-prediction on unscaled audio."""
    import json

    old = {"sample_rate": 16000, "residual_channels": 32, "residual_layers": 20, "dilation_cycle": 10,
           "num_steps": 200, "beta_start": 1e-4, "beta_end": 0.02}
    config = ModelConfig.from_json(json.dumps(old))
    assert config.parameterization == "eps" and config.data_scale == 1.0
    for bad in ({"parameterization": "x"}, {"data_scale": 0.0}, {"data_scale": float("nan")}):
        try:
            ModelConfig(**bad)
        except ValueError as exc:
            assert next(iter(bad)) in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")


def test_frames_scale_audio_into_the_model_and_back():
    """With data_scale s the sampler sees the known audio times s, and its output is divided by s."""
    from dataclasses import replace

    import numpy as np

    from diffwave.schedule import make_schedule
    from extend.frames import plan_frames, run_frames
    from extend.samplers.schedules import lambda_schedule  # noqa: F401  (engine import check)

    from .conftest import TINY

    model = tiny_model(config=replace(TINY, data_scale=4.0))
    seen = []

    def constant(model, noise, known, mask, schedule, generator, callback=None):
        seen.append(known.clone())
        return torch.full_like(known, 2.0)

    prompt = np.linspace(-0.2, 0.2, 400, dtype=np.float32)
    plan = plan_frames(model, context_s=0.05, new_s=0.05, crop=False, fade_s=0.0)
    new = next(run_frames(model, prompt, plan.new, constant, make_schedule(model.config, 3), plan))
    k = plan.known_length(len(prompt))
    assert torch.allclose(seen[0][0, :k], torch.from_numpy(prompt[-k:]) * 4.0)
    assert np.allclose(new, 0.5)


def test_weight_shapes_match_the_built_network():
    """The loader's arithmetic shapes equal a real network's state_dict, so the check cannot drift."""
    config = ModelConfig(sample_rate=8000, residual_channels=6, residual_layers=5, dilation_cycle=3, num_steps=10)
    built = {k: tuple(v.shape) for k, v in DiffWave(config).state_dict().items()}
    assert DiffWave.weight_shapes(config) == built


def test_moved_modules_keep_their_old_names_with_a_warning():
    """diffwave.train and extend.schedules still import, and say where things went."""
    import importlib
    import sys

    for old, name in (("diffwave.train", "train"), ("extend.schedules", "lambda_schedule")):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            module = importlib.import_module(old)
        assert callable(getattr(module, name))
