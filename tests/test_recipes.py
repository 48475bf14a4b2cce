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
