"""Does capacity pay? A grown model against its parent's recipe, on the same batches.

`diffwave grow` widens or deepens a trained model without changing its output. Each arm then
trains from the same starting function with ``--init``, one seed and one data folder, so every
arm draws the same crops, levels and noise at every step (:mod:`benchmarks.paired_loss`); the
control arm is the parent itself, trained on. At equal steps the loss ratio measures the extra
units alone. Each arm's EMA weights are then scored like a recipe (:func:`benchmarks.recipes.score_model`):
one-pass x0-SNR on held-out audio (the same noise for every model), the seam diagnostic, and,
with ``--yardstick``, the continuation yardstick (lambda, 50 steps, 1 seed).

    python -m benchmarks.growth --parent PARENT.safetensors \\
        --runs control=RUN_A c64l24=RUN_B --window 100 --yardstick 4 --out docs/growth
"""

from __future__ import annotations

import argparse
from pathlib import Path

from diffwave.io.errors import UserError

from .common import machine, replace_section, run_script, table, timed, write_json
from .paired_loss import compare_logs

SCORES = ["x0-SNR t=20", "x0-SNR t=50", "x0-SNR t=100", "x0-SNR t=150", "one pass t=50, 50-100 ms",
          "one pass t=50, SNR dB"]
YARDSTICK = ["retention 0.1-0.25 s", "retention 0.25-0.5 s", "retention 0.5-1 s", "pitch hold CREPE", "voiced / real",
             "wall s per new s"]


def parse_runs(items: list[str]) -> dict[str, Path]:
    """``NAME=RUN_DIR`` pairs, the first the control arm."""
    runs = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UserError(f"--runs takes NAME=RUN_DIR pairs, got {item!r}")
        if not (Path(path) / "log.csv").is_file():
            raise UserError(f"{path}: not a run folder (no log.csv)")
        runs[name] = Path(path)
    if len(runs) < 2:
        raise UserError("--runs needs the control arm and at least one grown arm")
    return runs


def describe(model) -> dict:
    c = model.config
    return {"network": f"C{c.residual_channels}/L{c.residual_layers}",
            "parameters": sum(p.numel() for p in model.parameters()),
            "receptive field s": model.receptive_field / c.sample_rate}


def score_arms(parent: str, runs: dict[str, Path], yardstick: int | None) -> list[dict]:
    """The parent (step 0 of every arm) and each arm's EMA weights, scored alike."""
    from diffwave.checkpoint import load_model
    from diffwave.training.state import ema_model

    from .recipes import score_model

    arms = [("parent", load_model(parent), 0)]
    for name, run in runs.items():
        model, meta = ema_model(run)
        arms.append((name, model, int(meta["step"])))
    rows = []
    for name, model, step in arms:
        row = score_model(model, name, "", step, float("nan"), float("nan"), yardstick=yardstick is not None,
                          limit=yardstick)
        rows.append({"arm": name, **describe(model), "steps": step, **{k: row[k] for k in SCORES + YARDSTICK if k in row}})
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parent", required=True, help="the model every arm started from (.safetensors)")
    p.add_argument("--runs", nargs="+", required=True, metavar="NAME=RUN", help="control arm first, then grown arms")
    p.add_argument("--start", type=int, default=0, help="the step every arm started from (0 for --init runs)")
    p.add_argument("--window", type=int, default=100, help="steps per loss window")
    p.add_argument("--yardstick", type=int, default=None, metavar="CLIPS",
                   help="also run the yardstick on the first CLIPS reference clips (1 seed)")
    p.add_argument("--out", type=Path, default=Path("docs/growth"))
    p.add_argument("--card", type=Path, default=None, help="markdown page to write into [OUT.md]")
    p.add_argument("--section", default="growth", help="name of the card's marked section to replace")
    args = p.parse_args(argv)
    runs = parse_runs(args.runs)
    if not Path(args.parent).is_file():
        raise UserError(f"--parent {args.parent}: no such model file")
    loss = compare_logs(runs, args.start, args.window)
    if not loss["windows"]:
        raise UserError(f"the arms share fewer than {args.window} logged steps after step {args.start}")
    scores, secs = timed(score_arms, args.parent, runs, args.yardstick)
    speed = loss["steps/s"]
    for row in scores:
        row["train steps/s"] = speed.get(row["arm"], float("nan"))
    args.out.mkdir(parents=True, exist_ok=True)
    from . import plots

    plots.loss_ratio(args.out / "loss.png", loss["logs"], "training loss against the first arm's, step by step")
    write_json(args.out / "growth.json", {"parent": args.parent, "runs": {k: str(v) for k, v in runs.items()},
                                          **{k: v for k, v in loss.items() if k != "logs"}, "scores": scores})
    base = next(iter(runs))
    yard = f"; yardstick: lambda, 50 steps, 1 seed, {args.yardstick} reference clips + 3 synthetic notes" \
        if args.yardstick else ""
    body = (f"Parent: `{args.parent}`; {loss['compared steps']} steps compared in windows of {args.window}; "
            f"train steps/s is each run's own log (its machine and threads may differ from the others'); scored in {secs / 60:.1f} min on {machine()}{yard}.\n\n"
            + table(loss["windows"], list(loss["windows"][0])) + "\n"
            + table(loss["paired"], list(loss["paired"][0])) + "\n"
            + table(scores, list(scores[0])) + "\n"
            + f"![loss of each arm over `{base}`'s]({args.out.name}/loss.png)\n")  # the card sits beside OUT
    replace_section(args.card or args.out.with_suffix(".md"), args.section, body)
    print(body)


if __name__ == "__main__":
    run_script(main)
