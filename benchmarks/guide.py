"""The continuation yardstick with the engine's linear-prediction guide (:mod:`extend.guide`).

Rows, on the reference clips and the synthetic notes (:mod:`benchmarks.continuation`):

- the guide alone: the linear-prediction guess, no model and no sampler;
- the model without a guide (the engine's default start from pure noise);
- the model started from the guide at each ``--strengths`` value (the fraction of the
  schedule's steps that run, from the guess noised to that level).

Also the pitch across the real seam: over the voiced reference prompts, how many have the same pitch
(CREPE, within 50 cents) in the prompt's last 0.25 s as in the real continuation's first 0.25 s.
A continuation that sustains the note sounding at the seam holds pitch in about those; the rest start a new one.

    python -m benchmarks.guide --out docs/guide
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from . import continuation as yard
from .common import add_engine_args, machine, pick_model, run_script, timed, write_json


def guide_alone(rate: int, which: str = "all", limit: int | None = None) -> dict:
    """Score the guess itself for every prompt: rows per prompt set, envelopes and timing."""
    from extend.guide import lpc_guide

    guide = lpc_guide(rate)
    seam, cont = int(yard.PROMPT_S * rate), int(yard.CONTINUATION_S * rate)
    runs, env, seconds = {}, {"real": [], "guide alone": []}, 0.0
    for group, name, audio in yard.prompts(rate, limit, which):
        real = audio[seam : seam + cont]
        real_pitch, real_voiced = yard.pitch_window(real, rate)
        t0 = time.perf_counter()
        guess = guide(audio[:seam], cont)
        seconds += time.perf_counter() - t0
        runs.setdefault(group, []).append(yard.score_run(guess, real, real_pitch, real_voiced, rate))
        env["real"].append(yard.envelope(audio, rate, seam))
        env["guide alone"].append(yard.envelope(np.concatenate([audio[:seam], guess]), rate, seam))
    made = sum(len(r) for r in runs.values())
    rows = [{"sampler": "guide alone", "prompts": g, **yard.summarise(r), "wall s per new s": seconds / made}
            for g, r in runs.items()]
    return {"rows": rows, "envelopes": {k: np.median(np.stack(v), axis=0).tolist() for k, v in env.items()}}


def pitch_across_seam(rate: int, limit: int | None = None) -> dict:
    """Voiced reference prompts whose pitch is the same just before and just after the seam."""
    seam = int(yard.PROMPT_S * rate)
    last = int(yard.PITCH_WINDOW_S * rate)
    held, voiced = [], []
    for _, name, audio in yard.prompts(rate, limit, "reference"):
        real, _ = yard.pitch_window(audio[seam : seam + int(yard.CONTINUATION_S * rate)], rate)
        if not real.voiced:
            continue
        before, _ = yard.pitch_window(audio[seam - last : seam], rate)
        voiced.append(name)
        if before.voiced and yard.cents(before.crepe_hz, real.crepe_hz) <= yard.CENTS_HELD:
            held.append(name)
    return {"voiced prompts": voiced, "same pitch across the seam": held}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_engine_args(p)
    p.add_argument("--strengths", default="0.1,0.2,0.4", help="comma-separated strengths in (0, 1]")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="4 reference clips and 1 seed")
    p.add_argument("--out", type=Path, default=Path("docs/guide"))
    p.add_argument("--card", type=Path, default=None, help="markdown file to write the table into [OUT.md]")
    p.add_argument("--section", default="guide", help="name of the card's marked section to replace")
    args = p.parse_args(argv)
    model = pick_model(args.model, args.tiny)
    rate = model.config.sample_rate
    strengths = [float(s) for s in args.strengths.split(",") if s]
    start = time.perf_counter()
    limit, seeds = (4, 1) if args.quick else (None, args.seeds)
    alone = guide_alone(rate, limit=limit)
    rows, env = list(alone["rows"]), {"real": alone["envelopes"]["real"], "guide alone": alone["envelopes"]["guide alone"]}
    for label, guide, strength in [("no guide", "none", 1.0)] + [(f"guide, strength {s:g}", "lpc", s) for s in strengths]:
        result, _ = timed(yard.measure, model, ["lambda"], seeds, args.steps, limit, precision="fp32",
                          guide=guide, strength=strength)
        rows += [{**r, "sampler": f"lambda, {label}"} for r in result["rows"]]
        env[f"lambda, {label}"] = result["envelopes"]["lambda"]
    ceiling = pitch_across_seam(rate, limit)
    secs = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "guide.json", {"rows": rows, "envelopes": env, "pitch across the seam": ceiling, "steps": args.steps,
                                         "seeds": seeds, "machine": machine()})
    yard.energy_plot(args.out / "energy.png", env)
    n_held, n_voiced = len(ceiling["same pitch across the seam"]), len(ceiling["voiced prompts"])
    head = (f"Model: `{args.model or ('tiny random' if args.tiny else 'bundled')}`; `lambda`, {args.steps} steps before "
            f"the strength cut, {seeds} seed(s) per prompt (the guide alone is deterministic); fp32; "
            f"{secs / 60:.1f} min on {machine()}.")
    note = (f"\nThe real seam: {n_held} of {n_voiced} voiced reference prompts have the same pitch (CREPE, 50 cents) in the "
            f"prompt's last 0.25 s as in the real continuation's first 0.25 s ({', '.join(ceiling['same pitch across the seam'])}).\n")
    yard.publish(args.out, args.card or args.out.with_suffix(".md"), args.section, head, rows, secs, note)

if __name__ == "__main__":
    run_script(main)
