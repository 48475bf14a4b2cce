"""Long extensions: how loud the new audio stays, and how much of it replays the input, over 30 s.

The yardstick (:mod:`benchmarks.continuation`) scores the first second after the seam; a user
who asks for 30 s hears what comes after. Each of ``--clips`` reference clips' first 5 s is
extended by ``--seconds`` with ``lambda`` at the engine's defaults, once per ``--guides`` entry
(none is the costly one: the unguided model at about 27 s per new second). Per new second k:

- level: 20 log10 RMS (dBFS), and its change from the prompt's last second;
- replay: the largest normalised cross-correlation of second k with any 1 s stretch of the prompt,

      r_k = max_o <y_k, x[o : o + N]> / (||y_k|| ||x[o : o + N]||),

  1 for a verbatim copy at any gain, near 0 for audio the prompt does not contain;
- clicks: 8 ms windows of second k whose high-passed peak passes 3 times the prompt's 99th
  percentile (:func:`benchmarks.metrics.click_windows`); the clip's real next second, scored
  the same way, is the control;
- seed echo: every clip is extended with the same seed, so the engine's noise is the same for
  all of them; the median zero-lag correlation of second k with the other clips' second k
  (:func:`benchmarks.metrics.seed_echo`) is about 0 when each follows its own prompt and 1 when
  the seed alone sets the audio (NaN with one clip).

    python -m benchmarks.long_run --out docs/long-run
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from diffwave.io.errors import UserError
from extend.match import normalised_xcorr

from . import common
from .metrics import click_windows, seed_echo

PROMPT_S = 5.0


def level_db(x: np.ndarray) -> float:
    return float(20.0 * np.log10(max(np.sqrt(np.mean(np.square(x, dtype=np.float64))), 1e-6)))


def replay(y: np.ndarray, x: np.ndarray) -> float:
    """max_o of the normalised cross-correlation of ``y`` [N] with ``x[o : o + N]`` (x [L], L >= N); 0 for silence."""
    return float(np.max(normalised_xcorr(x, y))) if len(x) >= len(y) and np.any(y) else 0.0


def per_second(prompt: np.ndarray, new: np.ndarray, rate: int) -> list[dict]:
    """Level, level change from the prompt's last second, replay and clicks of each whole new second."""
    ref = level_db(prompt[-rate:])
    clicks = click_windows(np.concatenate([prompt, new]), len(prompt), rate)
    per = len(clicks) // max(len(new) // rate, 1) if len(new) >= rate else 0
    out = []
    for k in range(len(new) // rate):
        y = new[k * rate : (k + 1) * rate]
        out.append({"second": k + 1, "level dBFS": level_db(y), "level change dB": level_db(y) - ref,
                    "replay": replay(y, prompt), "clicks": int(clicks[k * per : (k + 1) * per].sum())})
    return out


def add_seed_echo(per_clip: list[list[dict]], new: list[np.ndarray], rate: int) -> None:
    """Set ``seed echo`` on each clip's seconds (:func:`per_second` rows, updated in place):
    second k of every clip's new audio (``new``, one [L] per clip, same seed) against the others'."""
    for k in range(min(len(rows) for rows in per_clip)):
        echo = seed_echo(np.stack([y[k * rate : (k + 1) * rate] for y in new]))
        for rows, e in zip(per_clip, echo):
            rows[k]["seed echo"] = float(e)


def spans(seconds: int) -> list[tuple[int, int]]:
    """Table rows: new seconds 1, 2-5, 6-10, then tens, up to ``seconds``."""
    edges = [1, 2, 6, 11] + list(range(21, seconds + 1, 10))
    edges = sorted({e for e in edges if e <= seconds} | {seconds + 1})
    return list(zip(edges[:-1], [e - 1 for e in edges[1:]]))


def summarise(runs: dict[str, list[list[dict]]], seconds: int) -> list[dict]:
    """Median over clips of each measure, averaged over each span of seconds, per guide."""
    rows = []
    for guide, per_clip in runs.items():
        for a, b in spans(seconds):
            row = {"guide": guide, "new seconds": f"{a}" if a == b else f"{a}-{b}"}
            for key in ("level dBFS", "level change dB", "replay", "clicks", "seed echo"):  # clicks: windows per second
                values = np.array([[s.get(key, np.nan) for s in clip[a - 1 : b]] for clip in per_clip])  # [clips, span]
                row[key] = float(np.mean(np.median(values, axis=0)))
            rows.append(row)
    return rows


def curves(runs: dict[str, list[list[dict]]]) -> dict[str, dict[str, list[float]]]:
    """Per guide, the median over clips of each second's level, replay and seed echo (the plot's
    lines; the echo is NaN in runs saved before it was measured)."""
    return {g: {key: np.median([[s.get(key, np.nan) for s in clip] for clip in per], axis=0).tolist()
                for key in ("level dBFS", "replay", "seed echo")} for g, per in runs.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_engine_args(p)
    p.add_argument("--guides", default="lpc,match", help="comma-separated guides: none, lpc, match")
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--clips", type=int, default=4, help="the first N reference clips")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("docs/long-run"))
    p.add_argument("--card", type=Path, default=None, help="markdown file to write the table into [OUT.md]")
    p.add_argument("--section", default="long-run", help="name of the card's marked section to replace")
    p.add_argument("--replot", type=Path, metavar="JSON", help="redraw OUT/long_run.png from a saved long_run.json; run nothing")
    args = p.parse_args(argv)
    if args.replot:
        from . import plots

        runs = common.read_json(args.replot).get("runs")
        if not isinstance(runs, dict):
            raise UserError(f"{args.replot} is not a long_run.json: it has no runs")
        args.out.mkdir(parents=True, exist_ok=True)
        plots.long_run(args.out / "long_run.png", curves(runs))
        return
    from extend import Extender

    from . import plots

    model = common.pick_model(args.model, args.tiny)
    rate = model.config.sample_rate
    ex = Extender(model)
    seam = int(PROMPT_S * rate)
    guides = [g for g in args.guides.split(",") if g]
    runs, cost, start = {}, {}, time.perf_counter()
    pieces = common.clips(None, rate, args.clips)
    real = [per_second(audio[:seam], audio[seam : seam + rate], rate)[0] for _, audio in pieces]
    for guide in guides:
        t0, new = time.perf_counter(), []
        for _, audio in pieces:
            prompt = audio[:seam]
            out = ex.extend(prompt, rate, args.seconds, steps=args.steps, context=args.context, new=args.new,
                            seed=args.seed, precision="fp32", guide=guide)
            new.append(out[seam:].astype(np.float32))
            runs.setdefault(guide, []).append(per_second(prompt, new[-1], rate))
        add_seed_echo(runs[guide], new, rate)
        cost[guide] = (time.perf_counter() - t0) / (args.clips * args.seconds)
    secs = time.perf_counter() - start
    rows = summarise(runs, args.seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    common.write_json(args.out / "long_run.json", {"runs": runs, "rows": rows, "real next second": real,
                                                   "wall s per new s": cost, "steps": args.steps, "seconds": args.seconds,
                                                   "clips": args.clips, "seed": args.seed, "machine": common.machine()})
    plots.long_run(args.out / "long_run.png", curves(runs))
    head = (f"Model: `{args.model or ('tiny random' if args.tiny else 'bundled')}`; `lambda`, {args.steps} steps, the "
            f"guide's default strength; the first {args.clips} reference clips' first {PROMPT_S:g} s extended by "
            f"{args.seconds} s, seed {args.seed}; fp32; {secs / 60:.1f} min on {common.machine()}. Wall s per new s: "
            + ", ".join(f"{g} {c:.2g}" for g, c in cost.items()) + ". The real next second (median over the clips): "
            + ", ".join(f"{k} {np.median([r[k] for r in real]):.3g}" for k in ("level change dB", "replay", "clicks")) + ".")
    columns = ["guide", "new seconds", "level dBFS", "level change dB", "replay", "clicks", "seed echo"]
    body = head + "\n\n" + common.table(rows, columns)
    card = args.card or args.out.with_suffix(".md")
    common.replace_section(card, args.section,
                    body + f"\n![level and replay per second]({os.path.relpath(args.out, card.parent)}/long_run.png)\n")
    print(body)


if __name__ == "__main__":
    common.run_script(main)
