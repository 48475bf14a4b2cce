"""The model card's measures against training steps, one row per checkpoint.

Each checkpoint is measured with the card's own function (``model_card.measure``: same
seeds, same clips, same settings), so the row of the shipped checkpoint repeats the card's
numbers. Earlier checkpoints of the default model live in git history:

    git show f67af42:diffwave/assets/piano-default.safetensors > /tmp/m04800.safetensors
    python -m benchmarks.progress /tmp/m04800.safetensors diffwave/assets/piano-default.safetensors

Rows are kept in ``docs/model-card/progress.json``, keyed by the ``training_steps`` each file
records. A run replaces the rows of the files it is given and keeps the others, so adding a
new checkpoint costs one measurement. The table and plot go between the card's
``<!-- progress -->`` markers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from diffwave.checkpoint import load_model, read_metadata
from diffwave.io.errors import UserError

from . import plots
from .common import clips, machine, replace_section, run_script, table, write_json
from .model_card import add_measure_args, describe, measure

SNR_STEPS = (20, 50, 100)
COLUMNS = ["training steps", "RMS", "centroid median Hz", "voiced fraction", "KS",
           *(f"x0-SNR dB t={t}" for t in SNR_STEPS)]


def row(steps: int, sha: str, m: dict) -> dict:
    """One table row from a :func:`model_card.measure` result."""
    snr = {r["t"]: r["model x0-SNR dB"] for r in m["denoising"]}
    stats = m["stats"]
    return {"training steps": steps, "sha256": sha, "RMS": stats["RMS"], "centroid median Hz": stats["centroid median Hz"],
            "voiced fraction": stats["voiced fraction"], "KS": m["ks"], **{f"x0-SNR dB t={t}": snr[t] for t in SNR_STEPS},
            "machine": machine()}


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """Rows of ``new`` replace rows of ``old`` with the same training steps; sorted by steps."""
    by_step = {r["training steps"]: r for r in old}
    by_step.update({r["training steps"]: r for r in new})
    return [by_step[k] for k in sorted(by_step)]


def plot(path: Path, rows: list[dict], validation: dict) -> Path:
    import matplotlib.pyplot as plt

    steps = [r["training steps"] / 1000 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for t, color in zip(SNR_STEPS, ("C0", "C1", "C2")):
        axes[0].plot(steps, [r[f"x0-SNR dB t={t}"] for r in rows], "o-", color=color, label=f"t = {t}")
    axes[0].axhline(0, color="k", ls=":", lw=1, label="predicting silence")
    top = max(max(r[f"x0-SNR dB t={t}"] for r in rows) for t in SNR_STEPS)
    axes[0].set_ylim(min(-1.0, *(r[f"x0-SNR dB t={SNR_STEPS[-1]}"] for r in rows)) - 0.5, top * 1.4 + 1.0)  # legend room
    axes[0].set_ylabel("one-pass x0-SNR on validation audio (dB)")
    axes[0].set_title("denoising real piano (higher = better)")
    axes[1].plot(steps, [r["RMS"] for r in rows], "o-", color="C3", label="samples")
    axes[1].axhline(validation["RMS"], color="0.3", ls="--", label="validation audio")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("RMS of unconditional samples")
    axes[1].set_title("generating (closer to validation = better)")
    for ax, where in zip(axes, ("upper left", "center right")):
        ax.set_xlabel("training steps (thousands)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc=where, ncol=2 if where == "upper left" else 1)
    plots.save(fig, path)
    return path


def markdown(rows: list[dict], validation: dict, settings: str) -> str:
    reference = {"training steps": "validation audio", "RMS": validation["RMS"],
                 "centroid median Hz": validation["centroid median Hz"], "voiced fraction": validation["voiced fraction"],
                 "KS": 0.0}
    return (f"Measured by `python -m benchmarks.progress` ({settings}), one row per checkpoint.\n\n"
            + table([*rows, reference], COLUMNS) + "\n![progress](model-card/progress.png)\n")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", type=Path, help="checkpoints (.safetensors written by diffwave export)")
    add_measure_args(p)
    args = p.parse_args(argv)
    store = args.figures / "progress.json"
    old = json.loads(store.read_text()) if store.exists() else None
    new, validation = [], None
    for path in args.models:
        meta = read_metadata(path)
        if "training_steps" not in meta:
            raise UserError(f"{path} records no training_steps (was it written by diffwave export?)")
        model = load_model(path).eval()
        rate = model.config.sample_rate
        val = [x[: int(args.seconds * rate)] for _, x in clips(None, rate, args.clips)]
        settings = (f"{args.samples} samples of {args.seconds:g} s, {args.steps} steps, CREPE `{args.crepe}`, "
                    f"{len(val)} validation clips")
        if old is not None and old["settings"] != settings:  # checked before any measuring: rows would not compare
            raise UserError(f"{store} was measured with {old['settings']}, not {settings}; use those options")
        if validation is None:
            validation = {k: v for k, v in describe(val, rate, args.crepe).items() if not k.startswith("_")}
        sha = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        new.append(row(int(meta["training_steps"]), sha, measure(model, val, args.samples, args.seconds, args.steps, args.crepe)))
        print(json.dumps(new[-1]), flush=True)
    rows = merge(old["rows"] if old else [], new)
    write_json(store, {"settings": settings, "validation": validation, "rows": rows})
    plot(args.figures / "progress.png", rows, validation)
    text = markdown(rows, validation, settings)
    replace_section(args.card, "progress", text)
    print(text)

if __name__ == "__main__":
    run_script(main)
