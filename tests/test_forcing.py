"""Mixed noise levels: level maps, the network's per-sample levels, the forcing sampler, the oracle."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from diffwave.config import ModelConfig
from diffwave.io.errors import UserError
from diffwave.schedule import make_schedule
from diffwave.training.levels import level_maps
from extend import Extender
from extend.samplers import SAMPLERS, check_model

from .conftest import TINY, piano_like, tiny_model

MIXED = replace(TINY, mixed_levels=True)


def test_level_maps_shapes_and_levels():
    """Mixed rows: a target segment at t and context at a level <= t; other rows are t everywhere."""
    t = torch.randint(1, 200, (64,), generator=torch.Generator().manual_seed(0))
    maps = level_maps(t, 1000, 0.5, torch.Generator().manual_seed(1))
    assert maps.shape == (64, 1000) and maps.dtype == torch.int64
    assert bool((maps <= t[:, None]).all())
    mixed = (maps != t[:, None]).any(1)
    assert 16 <= int(mixed.sum()) <= 48  # about half
    ends_at_edge = gaps = 0
    for row, level in zip(maps[mixed], t[mixed]):
        target = torch.nonzero(row == level).flatten()
        assert len(target) == int(target[-1] - target[0]) + 1  # one contiguous segment
        assert 100 <= int(target[0]) < 900  # the seam lies in the middle 80 %
        ends_at_edge += int(target[-1]) == 999
        gaps += int(target[-1]) < 999
    assert ends_at_edge > 0 and gaps > 0  # both continuation and gap shapes occur
    zero = level_maps(t, 1000, 0.0, torch.Generator().manual_seed(1))
    assert torch.equal(zero, t[:, None].expand(64, 1000))
    again = level_maps(t, 1000, 0.5, torch.Generator().manual_seed(1))
    assert torch.equal(maps, again)


@pytest.mark.parametrize("parameterization", ["eps", "v"])
def test_a_uniform_level_map_is_the_ordinary_model(parameterization):
    """t [B, L] with one level per row gives what t [B] gives, integer and fractional levels."""
    model = tiny_model(config=replace(MIXED, parameterization=parameterization))
    x = torch.randn(3, 400)
    for t in (torch.tensor([0, 7, 19]), torch.tensor([0.5, 7.25, 18.9])):
        with torch.no_grad():
            assert torch.allclose(model(x, t), model(x, t[:, None].expand(3, 400)), atol=1e-5)


def test_each_sample_sees_its_own_level():
    """Changing the level of the first half changes the output there, and not far away."""
    model = tiny_model(config=MIXED)
    x = torch.randn(1, 2000)
    t = torch.full((1, 2000), 15)
    t2 = t.clone()
    t2[:, :1000] = 0
    with torch.no_grad():
        a, b = model(x, t), model(x, t2)
    radius = model.receptive_radius
    assert not torch.allclose(a[:, :1000], b[:, :1000])
    assert torch.allclose(a[:, 1000 + radius + 1 :], b[:, 1000 + radius + 1 :], atol=1e-6)  # matmul rounding only


def test_forcing_keeps_the_known_region_and_feeds_a_level_map():
    """The known region comes back exactly; the network sees level model_steps[0] there and n elsewhere."""
    schedule = make_schedule(MIXED, 5)
    seen = []

    class Spy(torch.nn.Module):
        def forward(self, x, t):
            seen.append(t.clone())
            return torch.zeros_like(x)

    known = torch.zeros(2, 100)
    known[:, :60] = torch.randn(2, 60, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(100)
    mask[:60] = 1.0
    noise = torch.randn(2, 100, generator=torch.Generator().manual_seed(1))
    out = SAMPLERS["forcing"](Spy(), noise, known, mask, schedule, torch.Generator().manual_seed(2))
    assert torch.equal(out[:, :60], known[:, :60])
    assert len(seen) == 5
    for i, t in enumerate(seen):
        n = 4 - i
        assert t.shape == (2, 100)
        assert bool((t[:, :60] == schedule.model_steps[0]).all())
        assert bool((t[:, 60:] == schedule.model_steps[n]).all())


def test_an_ordinary_model_is_refused_for_forcing_in_one_line():
    """forcing needs a model trained with mixed levels; the API says so before any compute."""
    with pytest.raises(ValueError, match="--mixed-levels"):
        check_model("forcing", TINY)
    check_model("forcing", MIXED)
    check_model("lambda", TINY)
    with pytest.raises(UserError, match="needs a model trained with --mixed-levels"):
        Extender(tiny_model()).job(sampler="forcing", steps=5)
    out = Extender(tiny_model(config=MIXED)).extend(piano_like(0.3, 8000), 8000, 0.05, sampler="forcing", steps=4,
                                                    context=0.2, new=0.05)
    assert np.isfinite(out).all()


def test_oracle_level_map_is_the_exact_posterior():
    """The Wiener denoiser's level-map path agrees with the one-level path on a uniform map, and a
    clean context moves its estimate toward the context-implied value."""
    from benchmarks.oracle import HarmonicGP, WienerDenoiser

    config = ModelConfig()
    den = WienerDenoiser(HarmonicGP(), 96, config)
    x = torch.randn(3, 96, dtype=torch.float64)
    uniform = torch.full((3, 96), 37.0, dtype=torch.float64)
    assert torch.allclose(den.level_map(x, uniform), den(x, torch.tensor([37.0] * 3)), atol=1e-10)


def test_forcing_samples_the_exact_conditional_on_the_oracle():
    """With the exact denoiser, forcing matches the exact conditional near the seam far better
    than replacement does: its mean error sits at the sampling floor (the paper's failure mode
    of replacement is the seam)."""
    from benchmarks.oracle import HarmonicGP, evaluate

    config, gp = ModelConfig(), HarmonicGP()
    schedule = make_schedule(config, 50)
    res = {name: evaluate(SAMPLERS[name], gp, schedule, config, n_known=192, n_new=96, count=96)
           for name in ("naive", "forcing")}
    near, floor = res["forcing"]["near_seam"], res["forcing"]["exact_floor_near"]
    assert near["mean_error"] < 2 * floor["mean_error"] + 0.05
    assert near["mean_error"] < 0.3 * res["naive"]["near_seam"]["mean_error"]
    assert near["ks"] < res["naive"]["near_seam"]["ks"]
