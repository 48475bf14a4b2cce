"""Continuation yardstick: how well a model continues real piano across the seam.

Each prompt is 5 s of audio; the next 1 s is the real continuation. Prompts are the 8
reference clips (extend/examples) and three synthetic sustained notes of known pitch (low,
middle, high register). For every sampler and seed, the prompt is extended by 1 s through
the public API (:class:`extend.Extender`) and the new second is scored against the real one:

- energy retention: RMS(generated) / RMS(real) over [0, 0.1], [0.1, 0.25], [0.25, 0.5] and
  [0.5, 1] s after the seam (1 = as loud as the real continuation, 0 = silence);
- pitch hold: over prompts whose real first 0.25 s is voiced (CREPE periodicity >= 0.5 in at
  least 10 frames of 10 ms), the fraction whose generated first 0.25 s is voiced in 10 frames
  too, with a median pitch within 50 cents of the real one (CREPE; and YIN, on the frames
  CREPE calls voiced);
- voiced fraction of the generated second against the real second's;
- spectral centroid ratio (median over frames, generated / real);
- level error: |20 log10 retention| averaged over the windows (dB either way, so a continuation
  that freezes louder than the real one decays is penalised as one that falls silent);
- seed echo over [0.5, 1] s: a seed's noise is the same for every prompt, so the median
  zero-lag correlation of one prompt's continuation with the other prompts' of the same seed
  and set (:func:`benchmarks.metrics.seed_echo`) says how much of it the seed sets and not the
  prompt: about 0 for real continuations, 1 for the same waveform whatever came before. A
  continuation that keeps its energy by echoing the seed scores retention without continuing.

    python -m benchmarks.continuation --out docs/continuation            # bundled model, lambda
    python -m benchmarks.continuation --samplers lambda,naive,repaint --model m.safetensors
    python -m benchmarks.continuation --model m.safetensors --first-seed 1 --out s1   # seed 1 on another core
    python -m benchmarks.continuation --rescore s0/continuation.json s1/continuation.json --pool
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffwave.io.errors import UserError

from . import crepe
from .common import (
    add_engine_args,
    clips,
    machine,
    pick_model,
    read_json,
    replace_section,
    run_script,
    table,
    timed,
    write_json,
)
from .metrics import VOICED, seed_echo, spectral_centroid, yin

PROMPT_S = 5.0
CONTINUATION_S = 1.0
WINDOWS = ((0.0, 0.1), (0.1, 0.25), (0.25, 0.5), (0.5, 1.0))
ECHO_WINDOW_S = WINDOWS[-1]  # farthest from the seam, where the prompt's hold is weakest
ECHO_COLUMN = f"seed echo {ECHO_WINDOW_S[0]:g}-{ECHO_WINDOW_S[1]:g} s"
PITCH_WINDOW_S = 0.25
CENTS_HELD = 50.0
MIN_VOICED_FRAMES = 10  # of 25 in the pitch window
SYNTH_NOTES = (("synth low A2", 110.0), ("synth mid A4", 440.0), ("synth high E6", 1318.5))
PLOT_SPAN_S = (-0.5, 1.0)
PLOT_HOP_S = 0.05


def synthetic_note(f0: float, rate: int, seconds: float = PROMPT_S + CONTINUATION_S, onset: float = 3.5) -> np.ndarray:
    """A decaying harmonic tone of pitch ``f0`` struck at ``onset`` s and sustained across the
    seam (5 s), after a softer note a fourth below; RMS near 0.1 at the seam. [L] float32"""
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros_like(t)
    for start, f, amp in ((0.5, f0 * 2 ** (-5 / 12), 0.5), (onset, f0, 1.0)):
        tau = t - start
        on = tau >= 0
        for k in range(1, 9):
            if k * f < rate / 2 - 200:
                out[on] += amp / k * np.exp(-tau[on] * (1.2 + 0.4 * k)) * np.sin(2 * np.pi * k * f * tau[on])
    seam = int(PROMPT_S * rate)
    level = np.sqrt(np.mean(out[seam - rate // 10 : seam] ** 2))
    return (0.12 * out / level).astype(np.float32)


def steady_sine(f0: float, rate: int, seconds: float = PROMPT_S + CONTINUATION_S, onset: float = 3.5) -> np.ndarray:
    """A pure sinusoid of pitch ``f0`` from ``onset`` s on, steady across the seam, after one a
    fourth below: the simplest narrowband prompt (the tone corpus's ``sines`` family). RMS 0.1. [L] float32"""
    t = np.arange(int(seconds * rate)) / rate
    x = np.where(t < onset, np.sin(2 * np.pi * f0 * 2 ** (-5 / 12) * t), np.sin(2 * np.pi * f0 * (t - onset)))
    return (0.1 * np.sqrt(2) * x).astype(np.float32)


def window_rms(x: np.ndarray, rate: int, start: float, end: float) -> float:
    seg = x[int(round(start * rate)) : int(round(end * rate))]
    return float(np.sqrt(np.mean(np.square(seg, dtype=np.float64)))) if len(seg) else float("nan")


def retention(generated: np.ndarray, real: np.ndarray, rate: int) -> list[float]:
    """RMS(generated) / RMS(real) in each of WINDOWS (seconds after the seam); NaN where real is silent."""
    out = []
    for a, b in WINDOWS:
        ref = window_rms(real, rate, a, b)
        out.append(window_rms(generated, rate, a, b) / ref if ref > 1e-6 else float("nan"))
    return out


@dataclass(frozen=True)
class PitchWindow:
    """Pitch of the first PITCH_WINDOW_S of a continuation (NaN when it has too few voiced frames)."""

    crepe_hz: float
    yin_hz: float
    voiced_frames: int

    @property
    def voiced(self) -> bool:
        return self.voiced_frames >= MIN_VOICED_FRAMES


def pitch_window(x: np.ndarray, rate: int, crepe_model: str = "tiny") -> tuple[PitchWindow, float]:
    """Pitch over the first 0.25 s, and the voiced fraction of the whole of ``x``."""
    f0, periodicity = crepe.pitch(x, rate, crepe_model)
    voiced = periodicity >= VOICED
    n = int(round(PITCH_WINDOW_S / 0.01))
    v = voiced[:n]
    y = yin(x, rate)[: len(v)]
    k = int(v.sum())
    crepe_hz = float(np.median(f0[:n][v])) if k >= MIN_VOICED_FRAMES else float("nan")
    yin_hz = float(np.median(y[v[: len(y)]])) if k >= MIN_VOICED_FRAMES else float("nan")
    return PitchWindow(crepe_hz, yin_hz, k), float(voiced.mean())


def cents(a: float, b: float) -> float:
    return abs(1200.0 * math.log2(a / b)) if a > 0 and b > 0 else float("inf")


def holds(generated: PitchWindow, real: PitchWindow) -> tuple[bool, bool]:
    """(CREPE hold, YIN hold): generated is voiced and within 50 cents of the real pitch."""
    if not generated.voiced:
        return False, False
    return cents(generated.crepe_hz, real.crepe_hz) <= CENTS_HELD, cents(generated.yin_hz, real.yin_hz) <= CENTS_HELD


def score_run(generated: np.ndarray, real: np.ndarray, real_pitch: PitchWindow, real_voiced: float, rate: int,
              crepe_model: str = "tiny") -> dict:
    """Every measure of one generated continuation against the real one (both [L] at ``rate``)."""
    gen_pitch, gen_voiced = pitch_window(generated, rate, crepe_model)
    crepe_hold, yin_hold = holds(gen_pitch, real_pitch)
    c_gen, c_real = np.median(spectral_centroid(generated, rate)), np.median(spectral_centroid(real, rate))
    return {"retention": retention(generated, real, rate), "voiced prompt": real_pitch.voiced,
            "crepe hold": crepe_hold, "yin hold": yin_hold, "voiced": gen_voiced, "real voiced": real_voiced,
            "centroid ratio": float(c_gen / c_real) if c_real > 0 else float("nan")}


PROMPT_SETS = ("all", "reference", "synthetic", "sines")


def prompts(rate: int, limit: int | None, which: str = "all", folder: str | Path | None = None
            ) -> list[tuple[str, str, np.ndarray]]:
    """(set, name, 6 s audio at ``rate``): ``all`` is the reference clips (or the FLACs in
    ``folder``), then the synthetic notes; ``reference`` and ``synthetic`` keep one of them;
    ``sines`` is :func:`steady_sine` at the synthetic notes' pitches (a positive control, not
    part of ``all``)."""
    refs = clips(folder, rate, limit) if which in ("all", "reference") else []
    out = [("reference clips", name, x) for name, x in refs]
    if which in ("all", "synthetic"):
        out += [("synthetic notes", name, synthetic_note(f0, rate)) for name, f0 in SYNTH_NOTES]
    if which == "sines":
        out += [("steady sines", name.replace("synth", "sine"), steady_sine(f0, rate)) for name, f0 in SYNTH_NOTES]
    return out


LEVEL_FLOOR = 1e-3  # retention is clipped to [1e-3, 1e3] before the log: silence reads 60 dB, not inf


def level_error_db(ret: np.ndarray) -> np.ndarray:
    """Mean over windows of |20 log10 retention| (NaN windows skipped), per run. [runs, windows] -> [runs]"""
    return np.nanmean(np.abs(20 * np.log10(np.clip(ret, LEVEL_FLOOR, 1 / LEVEL_FLOOR))), axis=1)  # clip keeps NaN


def summarise(runs: list[dict]) -> dict:
    """Medians of retention per window and of the level error; pitch hold over voiced prompts;
    mean voiced fractions."""
    ret = np.array([r["retention"] for r in runs], dtype=float)  # [runs, windows]
    voiced = [r for r in runs if r["voiced prompt"]]
    row = {f"retention {a:g}-{b:g} s": float(np.nanmedian(ret[:, i])) if len(runs) else float("nan")
           for i, (a, b) in enumerate(WINDOWS)}
    row["pitch hold CREPE"] = float(np.mean([r["crepe hold"] for r in voiced])) if voiced else float("nan")
    row["pitch hold YIN"] = float(np.mean([r["yin hold"] for r in voiced])) if voiced else float("nan")
    row["voiced runs"] = f"{len(voiced)}/{len(runs)}"
    real = float(np.mean([r["real voiced"] for r in runs]))
    row["voiced fraction"] = float(np.mean([r["voiced"] for r in runs]))
    row["voiced / real"] = row["voiced fraction"] / real if real > 0 else float("nan")
    row["centroid ratio"] = float(np.nanmedian([r["centroid ratio"] for r in runs]))
    row["level error dB"] = float(np.nanmedian(level_error_db(ret))) if len(runs) else float("nan")
    echo = [r["seed echo"] for r in runs if np.isfinite(r.get("seed echo", np.nan))]  # absent before 2026-12-07
    row[ECHO_COLUMN] = float(np.median(echo)) if echo else float("nan")
    return row


def add_seed_echo(made: list[tuple[tuple, dict, np.ndarray]], rate: int) -> None:
    """Set each run's ``seed echo`` (:func:`benchmarks.metrics.seed_echo` over
    :data:`ECHO_WINDOW_S`) among the runs of its key (sampler, prompt set, seed). ``made``:
    (key, the run's dict as saved in ``runs``, its generated audio [L]); the dicts are updated in place."""
    span = slice(int(ECHO_WINDOW_S[0] * rate), int(ECHO_WINDOW_S[1] * rate))
    keys: dict[tuple, list[int]] = {}
    for i, (key, _, _) in enumerate(made):
        keys.setdefault(key, []).append(i)
    for members in keys.values():
        echo = seed_echo(np.stack([made[i][2][span] for i in members]))
        for i, e in zip(members, echo):
            made[i][1]["seed echo"] = float(e)


def part_label(path: Path, name: str) -> str:
    """How tables and errors name one result of a saved file: the path, and the part's name if any."""
    return f"{path}{f' [{name}]' if name else ''}"


def saved_results(data: dict, path: Path) -> dict[str, dict]:
    """The results in a saved file: the file itself (name ""), or each of its named parts, as
    benchmarks.classical saves them. Every one must have rows and runs."""
    parts = {"": data} if {"rows", "runs"} & set(data) else {k: v for k, v in data.items() if isinstance(v, dict)}
    for name, part in (parts or {"": data}).items():
        if not {"rows", "runs"} <= set(part):
            raise UserError(f"{part_label(path, name)} is not a continuation result: it has no rows and runs")
    return parts


def rescore(result: dict) -> list[dict]:
    """The rows of a saved ``continuation.json`` result (one of :func:`saved_results`)
    recomputed from its runs by today's :func:`summarise` (so older results gain newer
    columns), with their stored cost."""
    cost = {(r["sampler"], r["prompts"]): r.get("wall s per new s", float("nan")) for r in result["rows"]}
    groups: dict[tuple[str, str], list[dict]] = {}
    for run in result["runs"]:
        groups.setdefault((run["sampler"], run["prompts"]), []).append(run)
    return [{"sampler": s, "prompts": g, **summarise(r), "wall s per new s": cost.get((s, g), float("nan"))}
            for (s, g), r in groups.items()]


POOL_KEYS = ("steps", "guide", "strength", "context", "new", "precision")
SAVED_BEFORE = {"guide": "none", "strength": 1.0}  # what results saved before guides and strength ran with


def pool(results: list[dict], names: list[str]) -> dict:
    """One result from several runs of the same settings (seeds run apart, e.g. on two cores):
    their runs together, and each (sampler, prompts) cost the mean of theirs. Results whose
    engine settings (:data:`POOL_KEYS`) differ are refused, naming the first difference."""
    first = results[0]
    for name, other in zip(names[1:], results[1:]):
        for key in POOL_KEYS:
            value, wanted = (r.get(key, SAVED_BEFORE.get(key)) for r in (other, first))
            if value != wanted:
                raise UserError(f"cannot pool {name} with {names[0]}: {key} is {value!r}, not {wanted!r}")
    costs: dict[tuple[str, str], list[float]] = {}
    for r in (row for res in results for row in res["rows"]):
        costs.setdefault((r["sampler"], r["prompts"]), []).append(r.get("wall s per new s", float("nan")))
    rows = [{"sampler": s, "prompts": g, "wall s per new s": float(np.mean(c))} for (s, g), c in costs.items()]
    return {**first, "rows": rows, "runs": [run for res in results for run in res["runs"]],
            "seeds": sum(res.get("seeds", 0) for res in results)}


SEAM_TS = (20, 50, 100)
SEAM_WINDOWS_S = ((0.0, 0.05), (0.05, 0.1), (0.1, 0.2), (0.2, 0.4))


def one_pass_at_seam(model, audio: list[np.ndarray], seed: int = 0) -> list[dict]:
    """The cheapest diagnostic: can one network pass predict the continuation from the context?

    Each clip is cut at 5 s. Before the seam x_t = sqrt(abar) x0 + sqrt(1-abar) z as usual; after
    it x_t holds noise only, sqrt(1-abar) z, as at the start of inpainting. The estimate
    x0_hat = (x_t - sqrt(1-abar) eps_hat) / sqrt(abar) after the seam is scored as RMS over the
    real continuation's RMS in SEAM_WINDOWS_S (a local denoiser gives ~0), and as SNR against
    the real first 0.1 s (0 dB: no better than predicting silence; energy that is noise scores
    below 0). Medians over clips.
    """
    import torch

    from diffwave.sampling import predict_eps
    from diffwave.schedule import training_schedule

    rate, scale = model.config.sample_rate, model.config.data_scale
    cut, end = int(PROMPT_S * rate), int((PROMPT_S + 0.4) * rate)
    seam = min(cut, 2 * model.receptive_field)  # audio further back cannot reach past the seam
    x0 = torch.from_numpy(np.stack([a[cut - seam : end] for a in audio])).float() * scale  # [clips, seam + 0.4 s]
    known = torch.zeros_like(x0)
    known[:, :seam] = x0[:, :seam]
    schedule = training_schedule(model.config)
    g = torch.Generator().manual_seed(seed)
    rows = []
    for t in SEAM_TS:
        if t >= len(schedule):  # a model with fewer training steps has no such level
            continue
        a = float(schedule.alpha_bars[t])
        xt = a**0.5 * known + (1 - a) ** 0.5 * torch.randn(x0.shape, generator=g)
        with torch.no_grad():
            x0_hat = (xt - (1 - a) ** 0.5 * predict_eps(model, xt, schedule, t)) / a**0.5
        est, real = x0_hat[:, seam:].numpy(), x0[:, seam:].numpy()
        row = {"t": t}
        for lo, hi in SEAM_WINDOWS_S:
            ratios = [window_rms(e, rate, lo, hi) / max(window_rms(r, rate, lo, hi), 1e-9) for e, r in zip(est, real)]
            row[f"x0_hat {lo * 1000:g}-{hi * 1000:g} ms"] = float(np.median(ratios))
        m = int(0.1 * rate)
        snr = [10 * np.log10(np.mean(r[:m] ** 2) / max(np.mean((e[:m] - r[:m]) ** 2), 1e-12)) for e, r in zip(est, real)]
        row["SNR 0-100 ms dB"] = float(np.median(snr))
        rows.append(row)
    return rows


CONTEXT_TS = (100, 150, 199)
CONTEXT_WINDOWS_S = ((0.0, 0.025), (0.025, 0.05), (0.05, 0.1), (0.1, 0.2))


def context_snr(model, audio: list[np.ndarray], seed: int = 0) -> list[dict]:
    """Does a clean context help? x0-SNR (dB, median over clips) just after a 5 s cut, with the
    whole window noised to level t ("same level"), or with the context at training level 0 and
    the network told so by a level map ("clean context", as the ``forcing`` sampler feeds a
    model trained with mixed levels). Only for ``config.mixed_levels`` models.
    """
    import torch

    from diffwave.schedule import training_schedule

    rate, scale = model.config.sample_rate, model.config.data_scale
    cut, seam = int(PROMPT_S * rate), 2 * model.receptive_field
    x0 = torch.from_numpy(np.stack([a[cut - seam : cut + int(0.2 * rate)] for a in audio])).float() * scale
    abar = training_schedule(model.config).alpha_bars.float()
    g = torch.Generator().manual_seed(seed)
    rows = []
    for t in CONTEXT_TS:
        a, a0 = float(abar[t]), float(abar[0])
        z = torch.randn(x0.shape, generator=g)
        for mode in ("same level", "clean context"):
            xt, levels = a**0.5 * x0 + (1 - a) ** 0.5 * z, torch.full(x0.shape, float(t))
            if mode == "clean context":
                xt[:, :seam] = a0**0.5 * x0[:, :seam] + (1 - a0) ** 0.5 * z[:, :seam]
                levels[:, :seam] = 0.0
            with torch.no_grad():
                est = (xt - (1 - a) ** 0.5 * model(xt, levels)) / a**0.5
            row = {"t": t, "context": mode}
            for lo, hi in CONTEXT_WINDOWS_S:
                i, j = seam + int(lo * rate), seam + int(hi * rate)
                err = ((est[:, i:j] - x0[:, i:j]) ** 2).mean(1).clamp_min(1e-12)
                snr = 10 * torch.log10((x0[:, i:j] ** 2).mean(1) / err)
                row[f"x0-SNR dB {lo * 1000:g}-{hi * 1000:g} ms"] = float(snr.median())
            rows.append(row)
    return rows


def envelope(x: np.ndarray, rate: int, seam: int) -> np.ndarray:
    """RMS in PLOT_HOP_S windows over PLOT_SPAN_S around ``seam``. [windows]"""
    hop = int(PLOT_HOP_S * rate)
    starts = range(seam + int(PLOT_SPAN_S[0] * rate), seam + int(PLOT_SPAN_S[1] * rate), hop)
    return np.array([np.sqrt(np.mean(np.square(x[s : s + hop], dtype=np.float64))) for s in starts])


def measure(model, samplers: list[str], seeds: int, steps: int, limit: int | None = None,
            crepe_model: str = "tiny", context: float = 4.0, new: float = 1.0, precision: str = "auto",
            first_seed: int = 0, which: str = "all", guide: str = "none", strength: float = 1.0,
            folder: str | Path | None = None) -> dict:
    """Run the yardstick for one model. Returns rows per (sampler, set), every run's scores
    (``runs``: sampler, prompts, prompt, seed and :func:`score_run`'s fields), envelopes and timing.
    ``context``, ``new`` (frame lengths in seconds) and ``precision`` are the engine's
    (:meth:`extend.Extender.job`). Seeds ``first_seed .. first_seed + seeds - 1``; a seed's
    noise is the same for every prompt (:func:`extend.frames.frame_generator`). ``which``: the
    prompt sets (:func:`prompts`; ``folder``: other clips than the reference ones). ``guide`` and
    ``strength``: the engine's (:mod:`extend.guide`)."""
    from extend import Extender

    ex = Extender(model)
    rate = model.config.sample_rate
    seam = int(PROMPT_S * rate)
    cont = int(CONTINUATION_S * rate)
    real_info, runs, env, cost, made_runs = {}, {}, {"real": []}, {}, []
    for group, name, audio in prompts(rate, limit, which, folder):
        real = audio[seam : seam + cont]
        real_info[name] = pitch_window(real, rate, crepe_model)
        env["real"].append(envelope(audio, rate, seam))
    for sampler in samplers:
        env[sampler], seconds, made = [], 0.0, 0
        for group, name, audio in prompts(rate, limit, which, folder):
            real_pitch, real_voiced = real_info[name]
            for seed in range(first_seed, first_seed + seeds):
                out, secs = timed(ex.extend, audio[:seam], rate, CONTINUATION_S, sampler=sampler, steps=steps, seed=seed,
                                   context=context, new=new, precision=precision, guide=guide, strength=strength)
                seconds, made = seconds + secs, made + 1
                gen = out[seam:].astype(np.float32)
                scores = score_run(gen, audio[seam : seam + cont], real_pitch, real_voiced, rate, crepe_model)
                run = {"sampler": sampler, "prompts": group, "prompt": name, "seed": seed, **scores}
                runs.setdefault((sampler, group), []).append(run)
                made_runs.append(((sampler, group, seed), run, gen))
                env[sampler].append(envelope(np.concatenate([audio[:seam], gen]), rate, seam))
        cost[sampler] = seconds / (made * CONTINUATION_S)
    add_seed_echo(made_runs, rate)
    per_run = [run for _, run, _ in made_runs]
    rows = [{"sampler": s, "prompts": g, **summarise(r), "wall s per new s": cost[s]} for (s, g), r in runs.items()]
    return {"rows": rows, "runs": per_run, "envelopes": {k: np.median(np.stack(v), axis=0).tolist() for k, v in env.items()},
            "steps": steps, "guide": guide, "strength": strength, "seeds": seeds, "first_seed": first_seed, "context": context, "new": new, "precision": precision, "machine": machine()}


COLUMNS = ["sampler", "prompts", "retention 0-0.1 s", "retention 0.1-0.25 s", "retention 0.25-0.5 s",
           "retention 0.5-1 s", "pitch hold CREPE", "pitch hold YIN", "voiced runs", "voiced fraction", "voiced / real",
           "centroid ratio", "level error dB", ECHO_COLUMN, "wall s per new s"]


def publish(out: Path, card: Path, section: str, head: str, rows: list[dict], secs: float, note: str = "") -> None:
    """Write ``head``, the table of ``rows``, ``note`` and a link to ``out``/energy.png into the
    marked ``section`` of ``card``, and print the table."""
    replace_section(card, section, head + "\n\n" + table(rows, COLUMNS) + note
                    + f"\n![energy across the seam]({os.path.relpath(out, card.parent)}/energy.png)\n")
    print(table(rows, COLUMNS))
    print(f"{secs:.0f} s; wrote {card} and {out}/")


def energy_plot(path: Path, envelopes: dict) -> Path:
    from . import plots

    return plots.energy_across_seam(path, envelopes, PLOT_SPAN_S[0], PLOT_HOP_S)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_engine_args(p)
    p.add_argument("--samplers", default="lambda", help="comma-separated samplers (default: lambda)")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--precision", default="auto", help="the engine's: auto (fp32 on a CPU), fp32 or bf16")
    p.add_argument("--quick", action="store_true", help="4 reference clips and 1 seed")
    p.add_argument("--prompts", choices=PROMPT_SETS, default="all",
                   help="prompt sets: the reference clips, the synthetic notes, both (default), or steady sines")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--guide", default="none", help="the engine's guide: none, lpc or match (extend.guide)")
    p.add_argument("--strength", type=float, default=1.0, help="the engine's strength: the fraction of steps run")
    p.add_argument("--out", type=Path, default=Path("docs/continuation"))
    p.add_argument("--card", type=Path, default=None, help="markdown file to write the table into [OUT.md]")
    p.add_argument("--section", default="continuation", help="name of the card's marked section to replace")
    p.add_argument("--rescore", type=Path, nargs="+", metavar="JSON",
                   help="print the tables of saved continuation.json files, recomputed from their runs; run nothing")
    p.add_argument("--pool", action="store_true",
                   help="with --rescore: one table of all the files' runs together (seeds run apart)")
    args = p.parse_args(argv)
    if args.pool and not args.rescore:
        raise UserError("--pool pools the files given to --rescore; give it some")
    if args.pool:
        parts = {part_label(path, name): part for path in args.rescore
                 for name, part in saved_results(read_json(path), path).items()}
        print(f"{len(parts)} results pooled:\n\n{table(rescore(pool(list(parts.values()), list(parts))), COLUMNS)}\n")
        return
    if args.rescore:
        for path in args.rescore:
            for name, part in saved_results(read_json(path), path).items():
                print(f"{part_label(path, name)}:\n\n{table(rescore(part), COLUMNS)}\n")
        return
    model = pick_model(args.model, args.tiny)
    samplers = [s for s in args.samplers.split(",") if s]
    result, secs = timed(measure, model, samplers, 1 if args.quick else args.seeds, args.steps,
                         4 if args.quick else None, context=args.context, new=args.new, precision=args.precision,
                         first_seed=args.first_seed, which=args.prompts, guide=args.guide, strength=args.strength)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "continuation.json", result)
    energy_plot(args.out / "energy.png", result["envelopes"])
    head = (f"Model: `{args.model or ('tiny random' if args.tiny else 'bundled')}`; {result['steps']} steps, "
            f"{result['seeds']} seed(s) per prompt"
            f"{f' from {args.first_seed}' if args.first_seed else ''}"
            f"{'' if args.guide == 'none' else f'; guide {args.guide}, strength {args.strength:g}'}"
            f"; frames of {args.new:g} s new after {args.context:g} s context; "
            f"{'' if args.precision == 'auto' else args.precision + '; '}"
            f"{secs / 60:.1f} min on {result['machine']}.")
    note = ""
    if model.config.mixed_levels:
        rows = context_snr(model, [x for _, x in clips(None, model.config.sample_rate)])
        note = "\nx0 estimate just after the seam, context at the same level against a clean context:\n\n" \
            + table(rows, list(rows[0])) + "\n"
    publish(args.out, args.card or args.out.with_suffix(".md"), args.section, head, result["rows"], secs, note)

if __name__ == "__main__":
    run_script(main)
