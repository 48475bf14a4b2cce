"""The recipe search: fair budgets and recipes that build; the speed benchmark's smoke run."""

import json
import time

import pytest

from benchmarks.recipes import RECIPES, CpuBudget
from diffwave.model import DiffWave


def test_cpu_budget_counts_cpu_time_from_the_first_call():
    """The budget starts at the first step, so data loading is not charged, and ends after it is used."""
    budget = CpuBudget(0.05)
    time.sleep(0.1)  # wall-clock that uses no CPU is not charged
    assert budget() is False
    end = time.process_time() + 1.0
    while not budget():
        assert time.process_time() < end, "the budget never ran out"
    assert budget.used >= 0.05


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_builds_and_its_crop_covers_the_receptive_field(name):
    """Each recipe's model builds, and its training crop is at least one receptive field."""
    recipe = RECIPES[name]
    model = DiffWave(recipe.config)
    assert recipe.train.crop_samples(model) >= model.receptive_field


def test_train_speed_smoke(tmp_path):
    """benchmarks.train_speed times one CPU setting in a child process and profiles a step."""
    from benchmarks import train_speed

    train_speed.main(["--threads", "1", "--precisions", "fp32", "--steps", "2", "--warmup", "1",
                      "--out", str(tmp_path / "ts")])
    data = json.loads((tmp_path / "ts" / "train_speed.json").read_text())
    row = data["rows"][0]
    assert row["steps/s"] > 0 and row["peak RSS MB"] > 10
    assert "aten::" in data["profile"]
    assert "steps/s" in (tmp_path / "ts.md").read_text()


def test_train_speed_compile_mode_is_checked_before_any_setting_runs(tmp_path):
    """--compile-mode without --compile, or an unknown mode: one line, nothing written."""
    from benchmarks import train_speed
    from diffwave.io.errors import UserError

    with pytest.raises(UserError, match="needs --compile"):
        train_speed.main(["--compile-mode", "reduce-overhead", "--out", str(tmp_path / "ts")])
    with pytest.raises(UserError, match="compile mode must be one of"):
        train_speed.main(["--compile", "--compile-mode", "fastest", "--out", str(tmp_path / "ts")])
    assert not list(tmp_path.iterdir())


def test_parity_compares_two_logs_window_by_window(tmp_path):
    """--parity averages each run's loss per 250-step window after the shared start, and their speeds."""
    from benchmarks import train_speed
    from diffwave.training.runlog import write_rows

    for name, loss, seconds_per_step in (("fp32", 0.30, 1.0), ("bf16", 0.33, 0.5)):
        rows = [{"step": s, "loss": loss, "steps_per_s": 1.0, "elapsed_s": s * seconds_per_step} for s in range(10, 1010, 10)]
        (tmp_path / name).mkdir()
        write_rows(tmp_path / name / "log.csv", rows)
    result = train_speed.parity(tmp_path / "fp32", tmp_path / "bf16", start=500)
    assert [w["steps"] for w in result["windows"]] == ["500-750", "750-1000"]
    assert all(abs(w["bf16 / fp32"] - 1.1) < 1e-9 for w in result["windows"])
    assert abs(result["steps/s"]["bf16"] / result["steps/s"]["fp32"] - 2.0) < 1e-9
    train_speed.main(["--parity", str(tmp_path / "fp32"), str(tmp_path / "bf16"), "--parity-start", "500",
                      "--out", str(tmp_path / "ts")])
    assert (tmp_path / "ts" / "parity.png").stat().st_size > 1000 and "bf16 / fp32" in (tmp_path / "ts.md").read_text()
