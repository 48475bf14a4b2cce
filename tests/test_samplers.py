"""Samplers: invariants against the paper's equations, NFE, fairness, determinism."""

import pytest
import torch

from diffwave.sampling import forward_noise
from diffwave.schedule import make_schedule
from extend.samplers import SAMPLERS, naive, start
from extend.samplers.schedules import count_reverse_moves, lambda_schedule, repaint_schedule

from .conftest import TINY, sampler_case, tiny_model

L, K = 300, 150


class Counting(torch.nn.Module):
    """Wraps a model and counts network evaluations."""

    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, 0

    def forward(self, x, t):
        self.calls += 1
        return self.model(x, t)


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    known = torch.zeros(1, L)
    known[0, :K] = 0.5 * torch.sin(torch.arange(K) * 0.2)
    mask = torch.zeros(L)
    mask[:K] = 1.0
    return torch.randn(1, L, generator=g), known, mask


def test_lambda_values_for_200_steps():
    """lambda(0) = 0, lambda(100) ~ 0.0274, last = 1 (paper eq. 19 as the authors coded it)."""
    lam = lambda_schedule(200)
    assert lam[0] == 0.0
    assert float(lam[100]) == pytest.approx(0.0274, abs=5e-4)
    assert float(lam[150]) == pytest.approx(0.20, abs=5e-3)
    assert lam[-1] == 1.0
    assert bool((lam[1:] >= lam[:-1]).all())


def test_lambda_t_agnostic_form_for_other_step_counts():
    """Other step counts use (2^(i/S) - 1)^4, forced to 1 at the end."""
    lam = lambda_schedule(50)
    assert float(lam[25]) == pytest.approx((2 ** 0.5 - 1) ** 4)
    assert lam[-1] == 1.0


def test_repaint_path_is_valid_and_counts_match_the_paper():
    """Jump paths move by +-1 within range; NFE = T + (r-1)(T-j) = 1910 for 200/10/10."""
    path = repaint_schedule(200, 10, 10)
    assert all(abs(a - b) == 1 for a, b in zip(path, path[1:]))
    assert min(path) == 0 and max(path) == 200
    assert count_reverse_moves(path) == 1910
    assert repaint_schedule(4, 1, 2) == [4, 3, 4, 3, 2, 3, 2, 1, 2, 1, 0]
    assert count_reverse_moves(repaint_schedule(30, 10, 1)) == 30


def test_naive_known_region_is_forward_noised_known_audio():
    """In naive, every recorded x_t's known region is q(x_t | x_0) for that step's noise level."""
    model = tiny_model()
    schedule = make_schedule(TINY)
    noise, known, mask = _problem()
    records = []
    gen = torch.Generator().manual_seed(1)
    out = naive(model, noise, known, mask, schedule, gen, callback=lambda info: records.append((info["n"], info["x"].clone())))
    assert len(records) == len(schedule)
    # Replay the generator: each step draws the reverse-step noise, then the known-region noise.
    replay = torch.Generator().manual_seed(1)
    for n, x in records:
        if schedule.sigma(n) > 0:
            torch.randn((1, L), generator=replay)
        abar = schedule.alpha_bar_after(n)
        if abar < 1.0:
            expected = forward_noise(known, abar, torch.randn((1, L), generator=replay))
        else:
            expected = known
        assert torch.allclose(x[0, :K], expected[0, :K], atol=1e-6), n
    assert torch.equal(out[0, :K], known[0, :K])


@pytest.mark.parametrize("steps", [None, 7])
def test_nfe_per_sampler(steps):
    """naive and lambda cost S network passes; repaint costs S + (r-1) * j * jumps."""
    schedule = make_schedule(TINY, steps)
    S = len(schedule)
    noise, known, mask = _problem()
    expected = {"naive": S, "lambda": S, "forcing": S, "ddim": S, "guidance": S,
                "repaint": count_reverse_moves(repaint_schedule(S, 2, 3))}
    for name, fn in SAMPLERS.items():
        model = Counting(tiny_model())
        opts = {"jump_length": 2, "resample": 3} if name == "repaint" else {}
        fn(model, noise, known, mask, schedule, torch.Generator().manual_seed(0), **opts)
        assert model.calls == expected[name], name
    if steps is None:
        assert expected["repaint"] == 20 + 2 * (20 - 2)


def test_every_sampler_starts_from_the_same_noise():
    """With the same noise, every sampler's x_T is identical (the paper's fairness protocol)."""
    schedule = make_schedule(TINY)
    noise, known, mask = _problem()
    firsts = {}
    for name, fn in SAMPLERS.items():
        seen = []

        class Spy(torch.nn.Module):
            def forward(self, x, t):
                if not seen:
                    seen.append(x.clone())
                return torch.zeros_like(x)

        fn(Spy(), noise, known, mask, schedule, torch.Generator().manual_seed(0))
        firsts[name] = seen[0]
    ref = start(noise, known, mask, schedule)
    new = mask == 0
    for name, x in firsts.items():
        assert torch.equal(x[:, new], ref[:, new]), name
        if name != "forcing":  # forcing shows the network clean context, not x_T, in the known region
            assert torch.equal(x, ref), name


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_output(name):
    """A sampler is a pure function of its inputs and generator seed."""
    schedule = make_schedule(TINY, 6)
    noise, known, mask = _problem()
    opts = sampler_case(name)
    runs = [SAMPLERS[name](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(5), **opts)
            for _ in range(2)]
    assert torch.equal(runs[0], runs[1])
    other = SAMPLERS[name](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(6), **opts)
    assert not torch.equal(runs[0], other)


def test_register_refuses_a_sampler_with_another_signature():
    """The registry enforces the shared signature, so every sampler is interchangeable."""
    from extend.samplers import register

    with pytest.raises(TypeError, match="must start with parameters"):
        register("bad")(lambda model, x, sigmas: x)
    assert "bad" not in SAMPLERS


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_samplers_run_on_a_fractional_fast_schedule(name):
    """Every sampler runs on a reference-style fast schedule whose steps are fractional."""
    from diffwave.schedule import fast_schedule

    schedule = fast_schedule(TINY, [1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5])
    assert not torch.allclose(schedule.model_steps, schedule.model_steps.round())
    noise, known, mask = _problem()
    model = Counting(tiny_model())
    opts = sampler_case(name)
    out = SAMPLERS[name](model, noise, known, mask, schedule, torch.Generator().manual_seed(0), **opts)
    assert torch.isfinite(out).all() and out.shape == (1, L)
    assert model.calls == (6 if name != "repaint" else count_reverse_moves(repaint_schedule(6, 2, 2)))


def test_last_lambda_cannot_change_the_generated_region():
    """After the final reverse step nothing is denoised again, so lambda_{S-1} only mixes the
    known region: forcing it to 1 (as the paper does) or not gives the same new audio."""
    schedule = make_schedule(TINY, 8)
    noise, known, mask = _problem()
    lam = lambda_schedule(8)
    out = {}
    for last in (0.0, 1.0):
        lam_k = lam.clone()
        lam_k[-1] = last
        out[last] = SAMPLERS["lambda"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(3), lambdas=lam_k)
    assert torch.equal(out[0.0][:, K:], out[1.0][:, K:])
    assert not torch.equal(out[0.0][:, :K], out[1.0][:, :K])


def test_ddim_with_eta_zero_is_a_function_of_the_noise_alone():
    """eta = 0: two generators, one result; eta = 1 draws from the generator; the known region is exact."""
    schedule = make_schedule(TINY, 6)
    noise, known, mask = _problem()
    a = SAMPLERS["ddim"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(1))
    b = SAMPLERS["ddim"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and torch.equal(a[:, :K], known[:, :K])
    c = SAMPLERS["ddim"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(1), eta=1.0)
    d = SAMPLERS["ddim"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(2), eta=1.0)
    assert not torch.equal(c, d)


def test_guidance_with_weight_zero_is_naive_and_its_gradient_reaches_the_new_region():
    """w = 0 reproduces replacement; w > 0 changes the generated region (through the denoiser's Jacobian)."""
    schedule = make_schedule(TINY, 6)
    noise, known, mask = _problem()
    ref = naive(tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(3))
    zero = SAMPLERS["guidance"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(3), weight=0.0)
    assert torch.allclose(ref, zero, atol=1e-5)
    guided = SAMPLERS["guidance"](tiny_model(), noise, known, mask, schedule, torch.Generator().manual_seed(3))
    assert not torch.allclose(ref[:, K:], guided[:, K:], atol=1e-4)


@pytest.mark.parametrize("name,knobs,message", [("ddim", {"eta": 1.5}, "0 <= eta <= 1"),
                                                 ("ddim", {"eta": float("nan")}, "0 <= eta <= 1"),
                                                 ("guidance", {"weight": -1.0}, "weight >= 0"),
                                                 ("guidance", {"eta": 0.0}, "has no option 'eta'")])
def test_new_samplers_check_their_own_knobs(name, knobs, message):
    from extend.samplers import check_knobs

    with pytest.raises(ValueError, match=message):
        check_knobs(name, 10, knobs)


def test_reconstruction_guidance_beats_replacement_on_the_oracle():
    """Near the seam the guided samples are closer to the exact conditional than naive's (KS)."""
    from benchmarks.oracle import HarmonicGP, evaluate
    from diffwave.config import ModelConfig

    config = ModelConfig()
    schedule = make_schedule(config, 50)
    res = {name: evaluate(SAMPLERS[name], HarmonicGP(), schedule, config, n_known=192, n_new=96, count=96)
           for name in ("naive", "guidance")}
    assert res["guidance"]["near_seam"]["ks"] < res["naive"]["near_seam"]["ks"] - 0.03
    assert res["guidance"]["near_seam"]["mean_error"] < 0.6 * res["naive"]["near_seam"]["mean_error"]
