"""Recipe search for the piano model: train each recipe on the same CPU budget, then score it.

Each recipe is a (ModelConfig, TrainConfig) pair. ``train`` runs one recipe into
``RUNS/<name>`` until its process has used ``--cpu-minutes`` of CPU time, counted from the
first step (data loading excluded), with a fixed thread count. CPU time rather than
wall-clock keeps the comparison fair on a machine that is doing other work too.
``score`` measures every trained recipe and writes the table of docs/recipes.md.

    python -m benchmarks.recipes train eps --data /work/corpus/train --runs runs/recipes --cpu-minutes 20
    python -m benchmarks.recipes score --runs runs/recipes --out docs/recipes
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from diffwave.config import ModelConfig
from diffwave.io.errors import UserError
from diffwave.training.config import TrainConfig

from .common import machine, replace_section, run_script, table, write_json

BASE = ModelConfig(residual_channels=32, residual_layers=20, dilation_cycle=10)


@dataclass(frozen=True)
class Recipe:
    name: str
    what: str
    config: ModelConfig
    train: TrainConfig


RECIPES = {r.name: r for r in (
    Recipe("eps", "today's recipe: C32/L20, eps-prediction, eps loss, audio as is", BASE, TrainConfig()),
    Recipe("v", "v-prediction, loss in v space", ModelConfig(**{**BASE.__dict__, "parameterization": "v"}),
           TrainConfig(objective="v")),
    Recipe("v-scale4", "v-prediction, v loss, audio x4 (RMS ~0.4) against the schedule",
           ModelConfig(**{**BASE.__dict__, "parameterization": "v", "data_scale": 4.0}), TrainConfig(objective="v")),
    Recipe("v-scale4-rf1s", "as v-scale4, L24 with dilation cycle 12 (receptive field 1.02 s), batch 4 x 1.05 s",
           ModelConfig(**{**BASE.__dict__, "residual_layers": 24, "dilation_cycle": 12, "parameterization": "v",
                          "data_scale": 4.0}),
           TrainConfig(objective="v", batch_size=4, crop_seconds=1.05)),
)}


class CpuBudget:
    """should_stop for diffwave.training.loop.train: True once this process used ``seconds`` of CPU since the first call."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start: float | None = None
        self.used = 0.0

    def __call__(self) -> bool:
        now = time.process_time()
        if self.start is None:
            self.start = now
        self.used = now - self.start
        return self.used >= self.seconds


def train_recipe(recipe: Recipe, data: Path, runs: Path, cpu_minutes: float, threads: int) -> dict:
    from diffwave.training.loop import train

    torch.set_num_threads(threads)
    budget = CpuBudget(60.0 * cpu_minutes)
    run_dir = runs / recipe.name
    wall = time.monotonic()
    state = train(data, run_dir, recipe.config, recipe.train, torch.device("cpu"), precision="fp32", should_stop=budget)
    record = {"recipe": recipe.name, "steps": state.step, "cpu_s": round(budget.used, 1), "threads": threads,
              "wall_s": round(time.monotonic() - wall, 1), "cpu_minutes_budget": cpu_minutes}
    (run_dir / "recipe.json").write_text(json.dumps(record, indent=1))
    return record


def score_model(model, name: str, what: str, steps: int, cpu_minutes: float, loss: float, seeds: int = 1,
                yardstick: bool = True, limit: int | None = None) -> dict:
    """One row of the recipe table: denoising, the one-pass seam diagnostic and (``yardstick``) the
    yardstick on the first ``limit`` reference clips (all by default)."""
    from . import continuation
    from .common import clips
    from .model_card import denoising_rows

    val = [x for _, x in clips(None, model.config.sample_rate)]
    row = {"recipe": name, "what": what, "steps": steps, "CPU min": cpu_minutes, "train loss": loss}
    for r in denoising_rows(model, val):
        if r["t"] in (20, 50, 100, 150):
            row[f"x0-SNR t={r['t']}"] = r["model x0-SNR dB"]
    for r in continuation.one_pass_at_seam(model, val):
        if r["t"] == 50:
            row["one pass t=50, 50-100 ms"] = r["x0_hat 50-100 ms"]
            row["one pass t=50, SNR dB"] = r["SNR 0-100 ms dB"]
    if not yardstick:
        return row
    result = continuation.measure(model, ["lambda"], seeds, 50, limit)
    ref = next(r for r in result["rows"] if r["prompts"] == "reference clips")
    for key in ("retention 0.1-0.25 s", "retention 0.25-0.5 s", "retention 0.5-1 s", "pitch hold CREPE", "voiced / real"):
        row[key] = ref[key]
    row["wall s per new s"] = ref["wall s per new s"]
    return row


COLUMNS = ["recipe", "steps", "CPU min", "train loss", "x0-SNR t=20", "x0-SNR t=50", "x0-SNR t=100", "x0-SNR t=150",
           "one pass t=50, 50-100 ms", "one pass t=50, SNR dB", "retention 0.1-0.25 s", "retention 0.25-0.5 s",
           "retention 0.5-1 s", "pitch hold CREPE", "voiced / real", "wall s per new s"]


def score_runs(runs: Path, names: list[str], include_bundled: bool) -> list[dict]:
    from diffwave.checkpoint import read_metadata
    from diffwave.pretrained import default_model_path
    from diffwave.training.runlog import read_rows
    from diffwave.training.state import ema_model

    from .common import pick_model

    rows = []
    if include_bundled:
        meta = read_metadata(default_model_path())
        rows.append(score_model(pick_model(None, False), "bundled (eps)", "the shipped model, 6 h 17 min on 2 threads",
                                int(meta.get("training_steps", 0)), float("nan"), float("nan")))
    for name in names:
        record = json.loads((runs / name / "recipe.json").read_text())
        log = read_rows(runs / name / "log.csv")
        tail = log[-max(1, len(log) // 10):]  # last tenth of the run
        loss = sum(r["loss"] for r in tail) / len(tail)
        model, _ = ema_model(runs / name)
        rows.append(score_model(model, name, RECIPES[name].what, record["steps"], record["cpu_s"] / 60, loss))
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one recipe on a CPU budget")
    t.add_argument("recipe", choices=sorted(RECIPES))
    t.add_argument("--data", type=Path, required=True)
    t.add_argument("--runs", type=Path, default=Path("runs/recipes"))
    t.add_argument("--cpu-minutes", type=float, default=20.0)
    t.add_argument("--threads", type=int, default=1)
    sc = sub.add_parser("score", help="score trained recipes and write the table")
    sc.add_argument("--runs", type=Path, default=Path("runs/recipes"))
    sc.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated recipe names")
    sc.add_argument("--no-bundled", action="store_true", help="leave out the bundled model's row")
    sc.add_argument("--out", type=Path, default=Path("docs/recipes"))
    args = p.parse_args(argv)
    if args.cmd == "train":
        print(json.dumps(train_recipe(RECIPES[args.recipe], args.data, args.runs, args.cpu_minutes, args.threads)))
        return
    names = [n for n in args.recipes.split(",") if n]
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise UserError(f"unknown recipe {unknown[0]!r}; choose from {', '.join(RECIPES)}")
    rows = score_runs(args.runs, names, not args.no_bundled)
    write_json(args.out / "recipes.json", {"rows": rows, "machine": machine()})
    replace_section(args.out.with_suffix(".md"), "recipes", table(rows, COLUMNS))
    print(table(rows, COLUMNS))


if __name__ == "__main__":
    run_script(main)
