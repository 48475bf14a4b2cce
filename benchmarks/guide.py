"""The continuation yardstick with the engine's guides (:mod:`extend.guide`).

Rows, on the reference clips and the synthetic notes (:mod:`benchmarks.continuation`), for each
of ``--guides`` (lpc: linear prediction; match: what followed the most similar passage of the
prompt, :mod:`extend.match`):

- the guide alone: its guess, no model and no sampler;
- the model without a guide (the engine's default start from pure noise; ``--no-unguided``
  skips this row, the costly one);
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


def guide_alone(rate: int, which: str = "all", limit: int | None = None, name: str = "lpc",
                bridge: tuple[float, float] | None = None, folder: Path | None = None) -> dict:
    """Score the guide ``name``'s guess itself for every prompt (a match guide's library is the
    prompt, as in the engine; ``bridge``: its hand-over from the prediction, None for the
    engine's): rows per prompt set, envelopes and timing."""
    from extend.guide import make_guide, match_guide

    label = f"{name} alone" + ("" if bridge is None else f", bridge {bridge[0]:g}-{bridge[1]:g} s")
    seam, cont = int(yard.PROMPT_S * rate), int(yard.CONTINUATION_S * rate)
    runs, env, seconds = {}, {"real": [], label: []}, 0.0
    for group, _, audio in yard.prompts(rate, limit, which, folder):
        real = audio[seam : seam + cont]
        real_pitch, real_voiced = yard.pitch_window(real, rate)
        t0 = time.perf_counter()
        made_guide = make_guide(name, rate, [audio[:seam]]) if bridge is None else match_guide(rate, [audio[:seam]], bridge)
        guess = made_guide(audio[:seam], cont)
        seconds += time.perf_counter() - t0
        runs.setdefault(group, []).append(yard.score_run(guess, real, real_pitch, real_voiced, rate))
        env["real"].append(yard.envelope(audio, rate, seam))
        env[label].append(yard.envelope(np.concatenate([audio[:seam], guess]), rate, seam))
    made = sum(len(r) for r in runs.values())
    rows = [{"sampler": label, "prompts": g, **yard.summarise(r), "wall s per new s": seconds / made}
            for g, r in runs.items()]
    return {"rows": rows, "envelopes": {k: np.median(np.stack(v), axis=0).tolist() for k, v in env.items()}}


def pitch_across_seam(rate: int, limit: int | None = None, folder: Path | None = None) -> dict:
    """Voiced reference prompts whose pitch is the same just before and just after the seam."""
    seam = int(yard.PROMPT_S * rate)
    last = int(yard.PITCH_WINDOW_S * rate)
    held, voiced = [], []
    for _, name, audio in yard.prompts(rate, limit, "reference", folder):
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
    p.add_argument("--guides", default="lpc", help="comma-separated guides: lpc, match")
    p.add_argument("--strengths", default="0.1,0.2,0.4", help="comma-separated strengths in (0, 1]")
    p.add_argument("--no-unguided", action="store_true", help="skip the model's row without a guide")
    p.add_argument("--bridges", default="", help="match alone with other hand-overs, e.g. 0-0.25,0.1-0.4 (seconds)")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--clips", type=Path, default=None, help="a folder of 6 s FLACs instead of the reference clips")
    p.add_argument("--quick", action="store_true", help="4 reference clips and 1 seed")
    p.add_argument("--out", type=Path, default=Path("docs/guide"))
    p.add_argument("--card", type=Path, default=None, help="markdown file to write the table into [OUT.md]")
    p.add_argument("--section", default="guide", help="name of the card's marked section to replace")
    args = p.parse_args(argv)
    model = pick_model(args.model, args.tiny)
    rate = model.config.sample_rate
    strengths = [float(s) for s in args.strengths.split(",") if s]
    guides = [g for g in args.guides.split(",") if g]
    start = time.perf_counter()
    limit, seeds = (4, 1) if args.quick else (None, args.seeds)
    rows, env = [], {}
    for name in guides:
        alone = guide_alone(rate, limit=limit, name=name, folder=args.clips)
        rows += alone["rows"]
        env.update(alone["envelopes"])
    for spec in (b for b in args.bridges.split(",") if b):
        a, b = (float(v) for v in spec.split("-"))
        alone = guide_alone(rate, limit=limit, name="match", bridge=(a, b), folder=args.clips)
        rows += alone["rows"]  # table only: the plot keeps the engine's guides
    runs = [] if args.no_unguided else [("no guide", "none", 1.0)]
    runs += [(f"{g}, strength {s:g}", g, s) for g in guides for s in strengths]
    for label, guide, strength in runs:
        result, _ = timed(yard.measure, model, ["lambda"], seeds, args.steps, limit, precision="fp32",
                          guide=guide, strength=strength, folder=args.clips)
        rows += [{**r, "sampler": f"lambda, {label}"} for r in result["rows"]]
        env[f"lambda, {label}"] = result["envelopes"]["lambda"]
    ceiling = pitch_across_seam(rate, limit, args.clips)
    secs = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "guide.json", {"rows": rows, "envelopes": env, "pitch across the seam": ceiling, "steps": args.steps,
                                         "seeds": seeds, "machine": machine()})
    yard.energy_plot(args.out / "energy.png", env)
    n_held, n_voiced = len(ceiling["same pitch across the seam"]), len(ceiling["voiced prompts"])
    head = (f"Model: `{args.model or ('tiny random' if args.tiny else 'bundled')}`; `lambda`, {args.steps} steps before "
            f"the strength cut, {seeds} seed(s) per prompt (a guide alone is deterministic); fp32; "
            f"{secs / 60:.1f} min on {machine()}." + ("" if args.clips is None else f" Clips: the FLACs in `{args.clips}`."))
    note = (f"\nThe real seam: {n_held} of {n_voiced} voiced reference prompts have the same pitch (CREPE, 50 cents) in the "
            f"prompt's last 0.25 s as in the real continuation's first 0.25 s ({', '.join(ceiling['same pitch across the seam'])}).\n")
    yard.publish(args.out, args.card or args.out.with_suffix(".md"), args.section, head, rows, secs, note)

if __name__ == "__main__":
    run_script(main)
