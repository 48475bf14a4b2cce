"""Engine speed: NFE and compute seconds per second of new audio, per sampler, with and
without receptive-field cropping; cost against context length; and whether cropping changes
the output.

    python -m benchmarks.engine_speed --out docs/engine_speed      # bundled model
    python -m benchmarks.engine_speed --tiny --seconds 0.5          # smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from extend import Extender
from extend.frames import run_frames

from .common import CallCounter, add_engine_args, clips, machine, pick_model, run_script, table, timed, write_json
from .metrics import CLICK, click_score, ks, seam_flux_ratio


def crop_pass_error(model, margin: int, length: int = 48000, seed: int = 0) -> float:
    """Max |eps(full) - eps(cropped)| after the seam for one network pass, relative to eps RMS."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, length, generator=g)
    seam = length - 16000
    t = torch.tensor([100.0])
    with torch.no_grad():
        full = model(x, t)[0, seam:]
        cropped = model(x[:, seam - margin :], t)[0, margin:]
    return float((full - cropped).abs().max() / full.pow(2).mean().sqrt().clamp_min(1e-12))


def seam_rows(ex: Extender, pieces, steps: int, samplers: list[str]) -> list[dict]:
    """One frame per clip with and without the residual fade (same seed, so the same sampler
    output): the step at the seam relative to the prompt's median sample-to-sample change,
    the click score and the seam flux ratio."""
    rate = ex.sample_rate
    rows = []
    for sampler in samplers:
        job = ex.job(sampler=sampler, steps=steps)
        for fade in (True, False):
            plan = job.plan if fade else dataclasses.replace(job.plan, fade=0)
            steps_rel, clicks, flux = [], [], []
            for _, audio in pieces:
                prompt = audio[: 5 * rate]
                new = next(run_frames(ex.model, prompt, plan.new, job.sampler, job.schedule, plan, 0, job.options))
                full = np.concatenate([prompt, new])
                typical = np.median(np.abs(np.diff(prompt[-rate:])))
                steps_rel.append(abs(float(new[0] - prompt[-1])) / max(typical, 1e-9))
                clicks.append(click_score(full, len(prompt), rate))
                flux.append(seam_flux_ratio(full, len(prompt), rate))
            rows.append({"sampler": sampler, "seam fade": "yes" if fade else "no",
                         "step at seam / median step": float(np.median(steps_rel)), "click score (median)": float(np.median(clicks)),
                         "clicks (> 3)": int(sum(c > CLICK for c in clicks)), "seam flux ratio (median)": float(np.median(flux)),
                         "frames": len(pieces)})
    return rows


def run(args) -> dict:
    model = pick_model(args.model, args.tiny)
    ex = Extender(model)
    rate = model.config.sample_rate
    name, prompt = clips(None, rate, 1)[0]
    ex.extend(prompt[: rate // 2], rate, 0.05, steps=2, new=0.05)  # warm-up: kernels, allocator, lazy imports
    counter = CallCounter(model)
    rows, outputs = [], {}
    for sampler in args.samplers:
        for crop in (True, False):
            counter.calls = 0
            out, seconds = timed(ex.extend, prompt, rate, args.seconds, sampler=sampler, steps=args.steps,
                                 context=args.context, new=args.new, crop=crop)
            frames = int(np.ceil(args.seconds / args.new))
            outputs[(sampler, crop)] = out[len(prompt):]
            rows.append({"sampler": sampler, "crop": "yes" if crop else "no", "NFE per frame": counter.calls // frames,
                         "compute s per s of new audio": seconds / args.seconds, "wall s": seconds})
    for row in rows:
        if row["crop"] == "yes":
            full = next(r for r in rows if r["sampler"] == row["sampler"] and r["crop"] == "no")
            row["speed-up"] = full["wall s"] / row["wall s"]
    equivalence = []
    for sampler in args.samplers:
        a, b = outputs[(sampler, True)], outputs[(sampler, False)]
        stat, p = ks(a, b)
        equivalence.append({"sampler": sampler, "RMS cropped / uncropped": float(a.std() / max(b.std(), 1e-12)),
                            "KS statistic": stat, "KS p": p})
    context_rows = []
    for context in args.contexts:
        for crop in (True, False):
            _, seconds = timed(ex.extend, prompt if len(prompt) >= context * rate else np.tile(prompt, 3), rate, args.new,
                               sampler="lambda", steps=args.steps, context=context, new=args.new, crop=crop)
            context_rows.append({"context s": context, "crop": "yes" if crop else "no",
                                 "compute s per s of new audio": seconds / args.new})
    counter.close()
    precision_rows = []
    for precision in ("fp32", "bf16"):
        out, seconds = timed(ex.extend, prompt, rate, args.seconds, sampler="lambda", steps=args.steps,
                             context=args.context, new=args.new, precision=precision)
        new = out[len(prompt):]
        ref = outputs[("lambda", True)] if ("lambda", True) in outputs else new
        precision_rows.append({"precision": precision, "compute s per s of new audio": seconds / args.seconds,
                               "RMS of (output - fp32 output) / RMS": float(np.sqrt(np.mean((new - ref) ** 2)) / max(ref.std(), 1e-12)),
                               "KS statistic vs fp32": ks(new, ref)[0]})
    seams = seam_rows(ex, clips(None, rate, args.seam_clips), args.steps, ["naive", "lambda"])
    plan_margin = ex.job(context=args.context, new=args.new).plan.margin
    result = {"machine": machine(), "model": model.config.to_json(), "receptive_field": model.receptive_field,
              "crop_margin_samples": plan_margin, "clip": name, "seconds": args.seconds, "steps": args.steps,
              "context": args.context, "new": args.new, "rows": rows, "equivalence": equivalence,
              "context_rows": context_rows, "precision_rows": precision_rows, "seam_rows": seams, "pass_error_at_margin": crop_pass_error(model, plan_margin),
              "pass_error_at_radius": crop_pass_error(model, model.receptive_radius)}
    return result


def markdown(r: dict) -> str:
    return (
        f"# Engine speed\n\nMachine: {r['machine']}. Model: `{r['model']}` (receptive field {r['receptive_field']} samples).\n"
        f"Extending `{r['clip']}` by {r['seconds']} s, {r['steps']} steps, context {r['context']} s, new {r['new']} s per frame; "
        f"cropping keeps {r['crop_margin_samples']} known samples (3 receptive fields).\n\n"
        + table(r["rows"], ["sampler", "crop", "NFE per frame", "compute s per s of new audio", "wall s", "speed-up"])
        + "\n## Does cropping change the output?\n\n"
        f"One network pass on a frame cropped at the margin differs from the uncropped pass after the seam by "
        f"{r['pass_error_at_margin']:.2g} (max abs, relative to eps RMS); cropped at exactly one receptive radius: "
        f"{r['pass_error_at_radius']:.2g}. Whole extensions use different noise draws (the frame is shorter), so they are "
        "compared as distributions. The KS p-value treats every sample as independent; audio samples are strongly "
        "correlated, so it overstates significance, and one frame of one seed is one draw: read the RMS ratio and the "
        "statistic, not the p-value.\n\n"
        + table(r["equivalence"], ["sampler", "RMS cropped / uncropped", "KS statistic", "KS p"])
        + "\n## Cost against context (lambda)\n\n"
        + table(r["context_rows"], ["context s", "crop", "compute s per s of new audio"])
        + "\n## bf16 autocast (lambda, cropped, same seed)\n\n"
        "`--precision bf16` runs convolutions in bfloat16 with fp32 weights. The noise is the same, so the difference "
        "to the fp32 output is the precision's doing; it grows through the reverse steps and the frames.\n\n"
        + table(r["precision_rows"], ["precision", "compute s per s of new audio", "RMS of (output - fp32 output) / RMS",
                                      "KS statistic vs fp32"])
        + "\n## The seam, with and without the residual fade\n\n"
        "First frame after a 5 s prompt, one per clip. The fade only acts where the sampler's own x_0 differs from the "
        "input at the last known sample: never for naive (its known region is the input at t=0), always for lambda "
        "(lambda = 1 at the end).\n\n"
        + table(r["seam_rows"], ["sampler", "seam fade", "step at seam / median step", "click score (median)", "clicks (> 3)",
                                 "seam flux ratio (median)", "frames"])
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_engine_args(p)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--contexts", type=float, nargs="+", default=[1.0, 4.0, 8.0])
    p.add_argument("--samplers", nargs="+", default=["naive", "lambda", "repaint"])
    p.add_argument("--seam-clips", type=int, default=8, help="clips used for the seam table")
    p.add_argument("--out", type=Path, default=None, help="folder for engine_speed.md/json")
    args = p.parse_args(argv)
    result = run(args)
    text = markdown(result)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "engine_speed.md").write_text(text)
        write_json(args.out / "engine_speed.json", result)


if __name__ == "__main__":
    run_script(main)
