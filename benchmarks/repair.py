"""Seams of gap filling and seamless loops, measured on the reference clips.

    python -m benchmarks.repair --out docs/repair          # about 2 min on 2 CPU cores

For each clip (the first 3 s) and sampler:
- **loop wrap**: the clip played end to start (``[clip, clip]``, seam at the wrap), before and
  after :meth:`extend.Extender.loop` (0.25 s inpainted across the wrap);
- **gap seams**: 0.25 s cut from the middle and refilled by :meth:`extend.Extender.inpaint`,
  scored at the left and right seams.
Scores are the extension seam's (:mod:`benchmarks.metrics`): the step across the seam over the
clip's median sample-to-sample change, the click score (> 3 is an audible click) and the
spectral-flux ratio (1 = the seam is invisible). Writes OUT.md and OUT/repair.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from extend import Extender
from extend.api import DEFAULT_STRENGTH

from .common import add_engine_args, clips, machine, pick_model, replace_section, run_script, table, write_json
from .metrics import CLICK, click_score, seam_flux_ratio

CLIP_S = 3.0
SEAM_S = 0.25


def seam_scores(audio: np.ndarray, seam: int, rate: int) -> dict:
    typical = np.median(np.abs(np.diff(audio[:seam])))
    return {"step": abs(float(audio[seam] - audio[seam - 1])) / max(float(typical), 1e-9),
            "click": click_score(audio, seam, rate), "flux": seam_flux_ratio(audio, seam, rate)}


def rms_ratio(made: np.ndarray, real: np.ndarray) -> float:
    """RMS of the generated samples over the RMS of the real ones they replace (1 = as loud)."""
    return float(np.sqrt(np.mean(made**2)) / max(np.sqrt(np.mean(real**2)), 1e-12))


def summary(name: str, what: str, scores: list[dict]) -> dict:
    ratios = [s["energy"] for s in scores if "energy" in s]
    return {"sampler": name, "seam": what, "step / median step": float(np.median([s["step"] for s in scores])),
            "RMS made / real (median)": float(np.median(ratios)) if ratios else "",
            "click score (median)": float(np.median([s["click"] for s in scores])),
            "clicks (> 3)": int(sum(s["click"] > CLICK for s in scores)),
            "flux ratio (median)": float(np.median([s["flux"] for s in scores])), "clips": len(scores)}


def run(ex: Extender, pieces, samplers: list[str], steps: int, guide: str = "none", strength: float | None = None) -> list[dict]:
    """Rows per sampler; ``guide`` and ``strength`` are the engine's (:mod:`extend.guide`), and a
    guided sampler's rows are named "SAMPLER + GUIDE"."""
    job = {"steps": steps, "guide": guide, "strength": strength}
    rate = ex.sample_rate
    n = int(CLIP_S * rate)
    raw = [seam_scores(np.concatenate([a[:n], a[:n]]), n, rate) for _, a in pieces]
    rows = [summary("(none)", "loop wrap, raw clip", raw)]
    for sampler in samplers:
        wrap, left, right = [], [], []
        for _, audio in pieces:
            clip = audio[:n].astype(np.float64)
            looped = ex.loop(clip, rate, SEAM_S, sampler=sampler, **job)
            edge = int(SEAM_S / 2 * rate)
            made = np.concatenate([looped[-edge:], looped[:edge]])
            wrap.append({**seam_scores(np.concatenate([looped, looped]), n, rate),
                         "energy": rms_ratio(made, np.concatenate([clip[-edge:], clip[:edge]]))})
            a, b = CLIP_S / 2 - SEAM_S / 2, CLIP_S / 2 + SEAM_S / 2
            filled = ex.inpaint(clip, rate, [(a, b)], sampler=sampler, **job)
            i, j = int(round(a * rate)), int(round(b * rate))
            left.append({**seam_scores(filled, i, rate), "energy": rms_ratio(filled[i:j], clip[i:j])})
            right.append(seam_scores(filled, j, rate))
        name = sampler if guide == "none" else f"{sampler} + {guide}"
        rows += [summary(name, "loop wrap, looped", wrap), summary(name, "gap, left seam", left),
                 summary(name, "gap, right seam", right)]
    return rows


COLUMNS = ["sampler", "seam", "RMS made / real (median)", "step / median step", "click score (median)", "clicks (> 3)", "flux ratio (median)",
           "clips"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_engine_args(p)
    p.add_argument("--samplers", default="lambda,guidance", help="comma-separated samplers")
    p.add_argument("--clips", type=int, default=None, help="the first N reference clips (default: all)")
    p.add_argument("--guide", default="none", help="the engine's guide: none, lpc or match (extend.guide)")
    p.add_argument("--strength", type=float, default=None, help="the engine's strength [its default for the guide]")
    p.add_argument("--out", type=Path, default=Path("docs/repair"))
    p.add_argument("--card", type=Path, default=None, help="markdown file to write the table into [OUT.md]")
    p.add_argument("--section", default="repair", help="name of the card's marked section to replace")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    model = pick_model(args.model, args.tiny)
    pieces = clips(None, model.config.sample_rate, args.clips)
    rows = run(Extender(model), pieces, [s for s in args.samplers.split(",") if s], args.steps, args.guide, args.strength)
    write_json(args.out / "repair.json", {"rows": rows, "machine": machine(), "steps": args.steps, "guide": args.guide,
                                          "strength": args.strength})
    guided = "" if args.guide == "none" else f", guide {args.guide} at strength {args.strength or DEFAULT_STRENGTH:g}"
    body = (f"Model: `{args.model or ('tiny random' if args.tiny else 'bundled')}`, {args.steps} steps{guided}; "
            f"{(time.perf_counter() - t0) / 60:.1f} min on {machine()}.\n\n" + table(rows, COLUMNS))
    replace_section(args.card or args.out.with_suffix(".md"), args.section, body)
    print(table(rows, COLUMNS))


if __name__ == "__main__":
    run_script(main)
