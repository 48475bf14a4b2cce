"""Paired A/B of two models on the continuation yardstick: does B continue the music better than A?

Both models extend the same prompts (the 8 reference clips and the synthetic notes of
:mod:`benchmarks.continuation`) with the same sampler, steps and seeds. For each prompt the
log-ratio of B's retention to A's is averaged over seeds,

    d_p = mean_s [ log r_B(p, s) - log r_A(p, s) ],        r = retention in one window,

and the prompts' d_p go to a two-sided Wilcoxon signed-rank test (scipy). Seeds of one
prompt share its audio, so the prompt, not the run, is the unit: with 8 clips the smallest
possible p is 2/256 = 0.0078. The spectral centroid is compared the same way on
|log(centroid ratio)| (distance from the real continuation's; lower is better).

A seed's starting noise is the same for every prompt, so one lucky draw can move all prompts
at once: the per-seed table (median over prompts of each seed's B/A) shows whether the gain
holds across draws. ``--first-seed`` adds draws to an earlier run.

    python -m benchmarks.model_ab A.safetensors B.safetensors --out docs/model_ab
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from . import continuation as yard
from .common import pick_model, replace_section, run_script, table, timed, write_json

FLOOR = 1e-6  # retention of a silent run, so its log stays finite
MEASURES = [f"retention {a:g}-{b:g} s" for a, b in yard.WINDOWS] + ["centroid distance"]


def run_values(run: dict) -> list[float]:
    """One run's measures, in MEASURES order: log retention per window, |log centroid ratio|."""
    logs = [float(np.log(max(r, FLOOR))) for r in run["retention"]]
    c = run["centroid ratio"]
    return logs + [abs(float(np.log(c))) if c and np.isfinite(c) and c > 0 else float("nan")]


def per_prompt(runs: list[dict]) -> dict[str, np.ndarray]:
    """Seed-averaged measures per prompt: {prompt: [len(MEASURES)]}."""
    out: dict[str, list] = {}
    for r in runs:
        out.setdefault(r["prompt"], []).append(run_values(r))
    return {k: np.nanmean(np.array(v), axis=0) for k, v in out.items()}


def compare(runs_a: list[dict], runs_b: list[dict]) -> list[dict]:
    """One row per measure: the medians over prompts for A and B, the median B/A ratio, how
    many prompts B wins (louder; for the centroid, closer to the real), and the Wilcoxon p.
    ``runs_*``: :func:`benchmarks.continuation.measure`'s ``runs`` for one sampler and prompt set."""
    a, b = per_prompt(runs_a), per_prompt(runs_b)
    names = sorted(set(a) & set(b))
    if not names:
        raise ValueError("the two models share no prompt")
    va, vb = np.stack([a[n] for n in names]), np.stack([b[n] for n in names])  # [prompts, measures]
    rows = []
    for i, measure in enumerate(MEASURES):
        d = vb[:, i] - va[:, i]
        d = d[np.isfinite(d)]
        centroid = measure == "centroid distance"
        wins = int(np.sum(d < 0)) if centroid else int(np.sum(d > 0))
        p = 1.0 if not len(d) or np.all(d == 0) else float(wilcoxon(d).pvalue)
        to_value = (lambda x: float(np.exp(np.nanmedian(x)))) if not centroid else (lambda x: float(np.nanmedian(x)))
        rows.append({"measure": measure, "A": to_value(va[:, i]), "B": to_value(vb[:, i]),
                     "B/A (median over prompts)": float(np.exp(np.median(d))) if len(d) else float("nan"),
                     "B better in": f"{wins}/{len(d)}", "Wilcoxon p": p})
    return rows


COLUMNS = ["measure", "A", "B", "B/A (median over prompts)", "B better in", "Wilcoxon p"]


def per_seed(runs_a: list[dict], runs_b: list[dict]) -> list[dict]:
    """One row per seed: the median over prompts of B/A in each retention window, and how many
    prompts B wins in the 0.5-1 s window (runs are paired by prompt and seed)."""
    a = {(r["prompt"], r["seed"]): run_values(r) for r in runs_a}
    b = {(r["prompt"], r["seed"]): run_values(r) for r in runs_b}
    rows = []
    for seed in sorted({k[1] for k in a} & {k[1] for k in b}):
        keys = sorted(k for k in a if k[1] == seed and k in b)
        d = np.array([b[k] for k in keys]) - np.array([a[k] for k in keys])  # [prompts, measures]
        row = {"seed": seed}
        for i, measure in enumerate(MEASURES[:-1]):
            row[measure] = float(np.exp(np.median(d[:, i])))
        row["B better in (0.5-1 s)"] = f"{int(np.sum(d[:, len(MEASURES) - 2] > 0))}/{len(keys)}"
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", help="model A (.safetensors), the baseline; 'tiny' for a random tiny net")
    p.add_argument("b", help="model B (.safetensors), the candidate")
    p.add_argument("--sampler", default="lambda")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--first-seed", type=int, default=0, help="seeds FIRST .. FIRST + SEEDS - 1")
    p.add_argument("--precision", default="auto", help="the engine's: auto (fp32 on a CPU), fp32 or bf16")
    p.add_argument("--quick", action="store_true", help="4 reference clips and 1 seed")
    p.add_argument("--out", type=Path, default=Path("docs/model_ab"))
    p.add_argument("--section", default="model-ab", help="name of the card's marked section to replace")
    args = p.parse_args(argv)
    models = [pick_model(None if m == "tiny" else m, m == "tiny") for m in (args.a, args.b)]
    seeds, limit = (1, 4) if args.quick else (args.seeds, None)
    results, secs = [], 0.0
    for m in models:
        r, s = timed(yard.measure, m, [args.sampler], seeds, args.steps, limit, precision=args.precision,
                     first_seed=args.first_seed)
        results.append(r)
        secs += s
    first = args.first_seed
    body = f"A: `{args.a}`; B: `{args.b}`; `{args.sampler}`, {args.steps} steps, seeds {first}-{first + seeds - 1} " \
           f"per prompt; precision {args.precision}; {secs / 60:.1f} min on {results[0]['machine']}.\n"
    out = {"a": args.a, "b": args.b, "sampler": args.sampler, "steps": args.steps, "seeds": seeds,
           "first_seed": first, "precision": args.precision, "sets": {}, "per seed": {}}
    for group in dict.fromkeys(r["prompts"] for r in results[0]["runs"]):
        pair = [[r for r in res["runs"] if r["prompts"] == group] for res in results]
        rows, seed_rows = compare(*pair), per_seed(*pair)
        out["sets"][group], out["per seed"][group] = rows, seed_rows
        body += f"\n{group}:\n\n" + table(rows, COLUMNS) + "\n"
        body += "\nper seed, B/A (median over prompts):\n\n" + table(seed_rows, list(seed_rows[0])) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "model_ab.json", {**out, "runs": {"a": results[0]["runs"], "b": results[1]["runs"]}})
    card = args.out.with_suffix(".md")
    replace_section(card, args.section, body)
    print(body)
    print(f"{secs:.0f} s; wrote {card} and {args.out}/")


if __name__ == "__main__":
    run_script(main)
