"""Training loss of runs that drew the same batches and noise, compared window by window.

Training randomness is a function of (seed, step, rank) (:func:`diffwave.runtime.rng`), so two
runs with one seed, one data folder and one batch shape see the same crops, levels and noise at
every step, whatever their network. Their logged losses (each row the mean of ``log_every``
steps) are then paired by step, and the ratio of window means measures the networks alone.

For each run B against the baseline A, the rows' log-ratios log(loss_B / loss_A) also go to a
two-sided Wilcoxon signed-rank test (scipy); rows are nearly independent because every step
draws a new batch.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

from scipy.stats import wilcoxon

from diffwave.io.errors import UserError


def compare_logs(runs: dict[str, Path], start: int, window: int) -> dict:
    """``runs``: name -> run folder, the first the baseline. Loss per ``window`` steps after
    ``start`` (up to the last step every run logged), each run's ratio to the baseline, a paired
    test over all shared rows, and each run's steps/s after ``start``."""
    from diffwave.training.runlog import read_rows

    logs = {name: [r for r in read_rows(path / "log.csv") if r["step"] > start] for name, path in runs.items()}
    for name, rows in logs.items():
        if not rows:
            raise UserError(f"{runs[name] / 'log.csv'}: no logged step after step {start}")
    base = next(iter(runs))
    end = int(min(rows[-1]["step"] for rows in logs.values()))
    windows = []
    for lo in range(start, end - window + 1, window):
        row = {"steps": f"{lo}-{lo + window}"}
        for name, rows in logs.items():
            sel = [r["loss"] for r in rows if lo < r["step"] <= lo + window]
            row[name] = sum(sel) / len(sel)
        for name in list(logs)[1:]:
            row[f"{name} / {base}"] = row[name] / row[base]
        windows.append(row)
    paired = []
    by_step = {name: {r["step"]: r["loss"] for r in rows if r["step"] <= end} for name, rows in logs.items()}
    for name in list(logs)[1:]:
        shared = sorted(set(by_step[base]) & set(by_step[name]))
        d = [math.log(by_step[name][s] / by_step[base][s]) for s in shared]
        p = float(wilcoxon(d).pvalue) if len(d) >= 10 and any(d) else float("nan")
        median = math.exp(statistics.median(d)) if d else float("nan")  # mean of the middle two when even
        paired.append({"run": f"{name} / {base}", "shared rows": len(d), "median ratio": median, "p (Wilcoxon)": p})
    speed = {}
    for name, rows in logs.items():
        span = rows[-1]["elapsed_s"] - rows[0]["elapsed_s"]
        speed[name] = (rows[-1]["step"] - rows[0]["step"]) / span if span > 0 else float("nan")
    return {"start": start, "windows": windows, "paired": paired, "steps/s": speed, "compared steps": end - start,
            "logs": {k: [(r["step"], r["loss"]) for r in v] for k, v in logs.items()}}
