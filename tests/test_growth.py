"""Growth: a wider, deeper model computes what the small one did, and its new units can learn."""

import dataclasses

import pytest
import torch

from diffwave.checkpoint import load_model, read_metadata, save_model
from diffwave.cli import app
from diffwave.growth import grow
from diffwave.io.cli_util import run_app
from diffwave.io.errors import UserError
from diffwave.training.config import TrainConfig
from diffwave.training.loop import train

from .conftest import TINY, tiny_model


@pytest.mark.parametrize("config", [TINY, dataclasses.replace(TINY, parameterization="v", data_scale=4.0,
                                                              mixed_levels=True)], ids=["eps", "v-levels"])
def test_grown_model_computes_the_same_function(config):
    """Same output for per-row and per-sample levels, bigger receptive field, process RNG untouched."""
    small = tiny_model(config=config)
    before = torch.random.get_rng_state()
    big = grow(small, 8, 7, torch.Generator().manual_seed(1))
    assert torch.equal(before, torch.random.get_rng_state())
    assert (big.config.residual_channels, big.config.residual_layers) == (8, 7)
    assert big.config == dataclasses.replace(config, residual_channels=8, residual_layers=7)
    assert big.receptive_field == small.receptive_field + 2 * (1 + 2 + 1)  # layers 4-6 continue the cycle 1, 2
    x = torch.randn(3, 400, generator=torch.Generator().manual_seed(2))
    levels = [torch.tensor([0, 7, 19])]
    if config.mixed_levels:
        levels.append(torch.randint(0, 20, (3, 400), generator=torch.Generator().manual_seed(3)))
    with torch.no_grad():
        for t in levels:
            want = small(x, t)
            assert want.abs().max() > 0.1
            torch.testing.assert_close(big(x, t), want, atol=2e-5, rtol=1e-5)


def test_new_units_are_seeded_and_receive_gradient():
    """New weights follow the seed only; the old ones are kept; the loss reaches every new block."""
    small = tiny_model()
    a = grow(small, 8, 6, torch.Generator().manual_seed(1))
    b = grow(small, 8, 6, torch.Generator().manual_seed(1))
    c = grow(small, 8, 6, torch.Generator().manual_seed(2))
    new = "residual_layers.5.dilated_conv.weight"
    assert torch.equal(a.state_dict()[new], b.state_dict()[new])
    assert not torch.equal(a.state_dict()[new], c.state_dict()[new])
    assert torch.equal(a.state_dict()["residual_layers.0.dilated_conv.weight"][:4, :4],
                       small.state_dict()["residual_layers.0.dilated_conv.weight"][:4])
    a.train()
    a(torch.randn(2, 300), torch.tensor([3, 12])).pow(2).mean().backward()
    grads = dict(a.named_parameters())
    assert grads["output_projection.weight"].grad[0, 4:].abs().sum() > 0  # the new channels' way out
    assert grads["residual_layers.5.output_projection.weight"].grad.abs().sum() > 0  # an added layer
    assert grads["residual_layers.0.dilated_conv.weight"].grad[:4, 4:].abs().sum() > 0  # old units reading new


def test_growth_only_adds():
    with pytest.raises(UserError, match="--channels 2 is below the model's 4"):
        grow(tiny_model(), 2, 4, torch.Generator())
    with pytest.raises(UserError, match="--layers 3 is below the model's 4"):
        grow(tiny_model(), 4, 3, torch.Generator())


def test_grow_then_train_starts_at_the_parents_loss(wav_dir, tmp_path, capsys):
    """`diffwave grow` writes a model that `diffwave train --init` takes; its first loss equals the parent's
    on the same batch (what the small model learned is kept); shrinking is one line and writes nothing."""
    parent = tmp_path / "parent.safetensors"
    save_model(parent, tiny_model(), extra={"training_steps": "123"})
    grown = tmp_path / "grown.safetensors"
    assert run_app(app, ["grow", str(parent), "--out", str(grown), "--channels", "8", "--layers", "6"]) == 0
    assert "C8/L6" in capsys.readouterr().out
    assert read_metadata(grown)["training_steps"] == "123" and load_model(grown).config.residual_channels == 8
    first = {}
    for name, path in (("parent", parent), ("grown", grown)):
        cfg = TrainConfig(batch_size=4, crop_seconds=0.25, max_steps=1, save_every=1, log_every=1, seed=5,
                          init=str(path))
        model = load_model(path)
        train(wav_dir, tmp_path / name, model.config, cfg, torch.device("cpu"),
              on_step=lambda step, loss, rate, name=name: first.setdefault(name, loss))
    assert first["grown"] == pytest.approx(first["parent"], rel=1e-4)
    assert run_app(app, ["grow", str(parent), "--out", str(tmp_path / "small.safetensors"), "--channels", "2",
                         "--layers", "6"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "below the model's 4" in err and not (tmp_path / "small.safetensors").exists()


def test_paired_loss_ratio_and_test(tmp_path):
    """Window means, their ratio to the baseline, and a paired test that sees a steady 10 % gap."""
    import math

    from benchmarks.paired_loss import compare_logs
    from diffwave.training.runlog import write_rows

    noise = torch.rand(100, generator=torch.Generator().manual_seed(0)).tolist()
    for name, factor in (("base", 1.0), ("same", 1.0), ("worse", 1.1)):
        rows = [{"step": 10 * (i + 1), "loss": (0.2 + 0.1 * noise[i]) * factor, "steps_per_s": 1.0,
                 "elapsed_s": 10.0 * (i + 1) * factor} for i in range(100)]
        (tmp_path / name).mkdir()
        write_rows(tmp_path / name / "log.csv", rows)
    result = compare_logs({n: tmp_path / n for n in ("base", "same", "worse")}, start=0, window=250)
    assert [w["steps"] for w in result["windows"]] == ["0-250", "250-500", "500-750", "750-1000"]
    assert all(w["same / base"] == 1.0 and abs(w["worse / base"] - 1.1) < 1e-9 for w in result["windows"])
    same, worse = result["paired"]
    assert math.isnan(same["p (Wilcoxon)"]) and same["median ratio"] == 1.0
    assert worse["p (Wilcoxon)"] < 1e-6 and abs(worse["median ratio"] - 1.1) < 1e-9
    assert abs(result["steps/s"]["worse"] * 1.1 - result["steps/s"]["base"]) < 1e-9


def test_paired_loss_median_of_an_even_count_is_the_middle_pair(tmp_path):
    """Four shared rows with log-ratios 0, 0, log 2, log 2: the median ratio is exp(log 2 / 2), not 2."""
    import math

    from benchmarks.paired_loss import compare_logs
    from diffwave.training.runlog import write_rows

    for name, factors in (("base", [1, 1, 1, 1]), ("b", [1, 2, 1, 2])):
        rows = [{"step": 10 * (i + 1), "loss": 0.2 * f, "steps_per_s": 1.0, "elapsed_s": 10.0 * (i + 1)}
                for i, f in enumerate(factors)]
        (tmp_path / name).mkdir()
        write_rows(tmp_path / name / "log.csv", rows)
    (paired,) = compare_logs({"base": tmp_path / "base", "b": tmp_path / "b"}, start=0, window=20)["paired"]
    assert paired["shared rows"] == 4 and abs(paired["median ratio"] - math.sqrt(2)) < 1e-9


def test_growth_benchmark_end_to_end(wav_dir, tmp_path, capsys):
    """Two arms from one parent, the same batches: the card holds the loss windows, the paired test and the
    scores of the parent and both arms; a malformed --runs is one line."""
    from benchmarks import growth

    parent = tmp_path / "parent.safetensors"
    save_model(parent, tiny_model(config=dataclasses.replace(TINY, num_steps=200, beta_end=0.02)))  # T covers t = 150
    grown = tmp_path / "grown.safetensors"
    save_model(grown, grow(load_model(parent), 8, 6, torch.Generator().manual_seed(0)))
    for name, path in (("control", parent), ("wide", grown)):
        cfg = TrainConfig(batch_size=2, crop_seconds=0.25, max_steps=20, save_every=20, log_every=2, seed=5,
                          init=str(path))
        train(wav_dir, tmp_path / name, load_model(path).config, cfg, torch.device("cpu"))
    out = tmp_path / "docs" / "growth"
    growth.main(["--parent", str(parent), "--runs", f"control={tmp_path / 'control'}", f"wide={tmp_path / 'wide'}",
                 "--window", "10", "--out", str(out)])
    card = (tmp_path / "docs" / "growth.md").read_text()
    assert "| 0-10 |" in card and "wide / control" in card and "C8/L6" in card and "x0-SNR t=150" in card
    assert (out / "loss.png").stat().st_size > 1000 and (out / "growth.json").is_file()
    with pytest.raises(UserError, match="NAME=RUN_DIR"):
        growth.main(["--parent", str(parent), "--runs", str(tmp_path / "control"), "--out", str(out)])
