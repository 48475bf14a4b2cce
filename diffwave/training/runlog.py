"""A run directory's CSV log and loss-curve plot."""

from __future__ import annotations

import csv
from pathlib import Path

FIELDS = ("step", "loss", "steps_per_s", "elapsed_s")


def _parsed(row: dict) -> dict | None:
    """A row as numbers, or None when it is incomplete (a write cut short by a kill or a full disk)."""
    try:
        return {k: float(row[k]) for k in FIELDS}
    except (KeyError, TypeError, ValueError):
        return None


def _complete_rows(path: Path) -> list[tuple[dict, dict]]:
    """(stored text, numbers) of each complete row; partial rows are dropped."""
    with open(path, newline="") as f:
        pairs = [(r, _parsed(r)) for r in csv.DictReader(f)]
    return [(r, v) for r, v in pairs if v is not None]


def truncate_after(path: Path, step: int) -> list[dict]:
    """Drop rows logged after ``step`` (a run killed after logging, before saving) and partial
    rows; return the rest."""
    if not path.exists():
        return []
    kept = [(r, v) for r, v in _complete_rows(path) if v["step"] <= step]
    write_rows(path, [r for r, _ in kept], mode="w")  # rewrite the stored text as it was
    return [v for _, v in kept]


def write_rows(path: Path, rows: list[dict], mode: str = "a") -> None:
    new = mode == "w" or not path.exists()
    with open(path, mode, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        writer.writerows({k: r[k] for k in FIELDS} for r in rows)


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [v for _, v in _complete_rows(path)]


def plot_loss(csv_path: Path, png_path: Path, title: str = "training loss") -> None:
    """Loss vs step (raw and smoothed), log y axis."""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: the process's backend is left alone

    rows = read_rows(csv_path)
    if not rows:
        return
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    fig = Figure(figsize=(7, 3.5), dpi=100)
    ax = fig.subplots()
    ax.plot(steps, loss, color="0.75", lw=0.8, label="logged")
    if len(loss) >= 10:
        k = max(len(loss) // 30, 5)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], smooth, color="C0", lw=1.6, label=f"mean of {k}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = png_path.with_name(f".{png_path.name}.tmp.png")
    fig.savefig(tmp)
    tmp.replace(png_path)
