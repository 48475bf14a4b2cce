"""Training and fast schedules."""

import pytest
import torch

from diffwave.config import ModelConfig
from diffwave.schedule import fast_schedule, make_schedule, respaced_schedule, training_schedule


def test_fast_schedule_alignment_matches_reference():
    """The reference 6-step inference schedule aligns to the published fractional steps."""
    s = fast_schedule(ModelConfig(), [1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5])
    expected = torch.tensor([0.0, 3.2, 13.4, 33.8, 74.0, 138.1], dtype=torch.float64)
    assert torch.allclose(s.model_steps, expected, atol=0.06)


def test_training_schedule_end_level():
    """T=200, beta 1e-4..0.02 ends near abar_T = 0.13 (x_T is not pure noise)."""
    s = training_schedule(ModelConfig())
    assert len(s) == 200
    assert float(s.alpha_bars[-1]) == pytest.approx(0.1322, abs=1e-3)
    assert torch.equal(s.model_steps, torch.arange(200, dtype=torch.float64))


@pytest.mark.parametrize("steps", [1, 7, 50, 199])
def test_respaced_schedule_spans_training_range(steps):
    """A respaced schedule keeps the training end level and aligns to integer steps."""
    config = ModelConfig()
    s = respaced_schedule(config, steps)
    full = training_schedule(config)
    assert len(s) == steps
    assert float(s.alpha_bars[-1]) == pytest.approx(float(full.alpha_bars[-1]), rel=1e-9)
    assert torch.allclose(s.model_steps, s.model_steps.round(), atol=1e-6)
    assert bool((s.betas > 0).all() and (s.betas < 1).all())


def test_make_schedule_full_and_bounds():
    """None or T gives the training schedule; out-of-range step counts are refused."""
    config = ModelConfig()
    assert torch.equal(make_schedule(config).betas, make_schedule(config, 200).betas)
    with pytest.raises(ValueError):
        make_schedule(config, 0)
    with pytest.raises(ValueError):
        make_schedule(config, 201)


@pytest.mark.parametrize("target", [1e-4, 1e-6, 0.05])
def test_terminal_alpha_bar_rescales_the_top_and_keeps_the_bottom(target):
    """Lin et al. 2024 alg. 1 with a floor: abar_T = target, abar_0 unchanged, sqrt(abar) affine in the
    plain one, so every level stays a valid strictly decreasing noise level."""
    plain = training_schedule(ModelConfig())
    s = training_schedule(ModelConfig(terminal_alpha_bar=target))
    assert float(s.alpha_bars[-1]) == pytest.approx(target, rel=1e-9)
    assert float(s.alpha_bars[0]) == pytest.approx(float(plain.alpha_bars[0]), rel=1e-12)
    assert bool((s.betas > 0).all() and (s.betas < 1).all())
    assert bool((s.alpha_bars[1:] < s.alpha_bars[:-1]).all())
    ratio = torch.diff(s.alpha_bars.sqrt()) / torch.diff(plain.alpha_bars.sqrt())
    assert torch.allclose(ratio, ratio[:1].expand_as(ratio), rtol=1e-6)
    fast = make_schedule(ModelConfig(terminal_alpha_bar=target), 50)
    assert float(fast.alpha_bars[-1]) == pytest.approx(target, rel=1e-9)


def test_terminal_alpha_bar_is_checked_and_old_configs_keep_the_plain_schedule():
    """A config without the field (every checkpoint before it) means the plain linear schedule."""
    import json

    old = json.loads(ModelConfig().to_json())
    del old["terminal_alpha_bar"]
    config = ModelConfig.from_json(json.dumps(old))
    assert config.terminal_alpha_bar is None
    assert torch.equal(training_schedule(config).betas, torch.linspace(1e-4, 0.02, 200, dtype=torch.float64))
    for bad, why in [(0.0, "at least 1e-06"), (0.2, "below the plain schedule's abar_T"), (float("nan"), "at least"),
                     (True, "at least")]:
        with pytest.raises(ValueError, match=why):
            ModelConfig(terminal_alpha_bar=bad)
