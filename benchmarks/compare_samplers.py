"""Compare the samplers on real clips, reproducing the paper's protocol and figures.

Each clip's first ``--prompt`` seconds are extended by ``--generate`` seconds with every
sampler, from identical initial noise per clip and seed; the rest of the clip is the real
continuation, kept for reference.

    python -m benchmarks.compare_samplers --clips extend/examples --seeds 1 --out docs/benchmarks
"""

from __future__ import annotations

import argparse
import resource
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from diffwave.schedule import make_schedule
from extend import Extender
from extend.samplers import usable

from . import crepe, plots
from .common import CallCounter, add_engine_args, clips, machine, pick_model, run_script, table, timed, write_json
from .metrics import (
    CLICK,
    VOICED,
    click_score,
    frechet_distance,
    ks,
    pitch_accuracy,
    seam_flux_ratio,
    seam_pitch_jump_cents,
    yin,
)


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024


def _peak_memory_child(model_path, tiny, sampler, steps, rate_seconds, new) -> float:
    """In a fresh process: peak RSS growth (MB) over one frame, above the loaded model."""
    model = pick_model(model_path, tiny)
    ex = Extender(model, retain_memory=True)  # a spawned process: its own entry point
    prompt = clips(None, model.config.sample_rate, 1)[0][1]
    ex.extend(prompt, model.config.sample_rate, 0.01, sampler="naive", steps=2, new=0.01)  # lazy imports, allocator
    base = _rss_kb()
    ex.extend(prompt, model.config.sample_rate, rate_seconds, sampler=sampler, steps=steps, new=new)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0


def peak_memory(settings: Settings, sampler: str) -> float:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_peak_memory_child, settings.model, settings.tiny, sampler, settings.steps, settings.new, settings.new).result()


@dataclass(frozen=True)
class Settings:
    """What one comparison runs: the CLI's options as data, so that other scripts (the report)
    build it directly instead of composing a command line."""

    out: Path
    model: str | None = None
    tiny: bool = False
    clips: str | None = None  # folder of clips [extend/examples]
    limit: int | None = None  # the first N clips
    seeds: int = 1
    prompt: float = 5.0
    generate: float = 3.0
    steps: int = 50
    context: float = 4.0
    new: float = 1.0
    crepe: str = "tiny"
    samplers: tuple[str, ...] | None = None  # None: every sampler the model can run
    skip_memory: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Settings":
        values = {f.name: getattr(args, f.name) for f in fields(cls)}
        values["samplers"] = tuple(values["samplers"]) if values["samplers"] else None
        return cls(**values)


def nearest_step(schedule, t: float) -> int:
    return int(np.argmin(np.abs(schedule.model_steps.numpy() - t)))


def run(settings: Settings) -> dict:
    model = pick_model(settings.model, settings.tiny)
    rate = model.config.sample_rate
    ex = Extender(model)
    schedule = make_schedule(model.config, settings.steps)
    t_snap = nearest_step(schedule, 25.0)
    pieces = clips(settings.clips, rate, settings.limit)
    n_prompt, n_gen = int(settings.prompt * rate), int(settings.generate * rate)
    counter = CallCounter(model)
    names = list(settings.samplers or usable(model.config))
    per = {name: {"ks": [], "cost": [], "nfe": [], "scores": [], "generated": []} for name in names}
    snapshots, tracks = {}, {}
    for ci, (clip_name, audio) in enumerate(pieces):
        prompt, reference = audio[:n_prompt], audio[n_prompt:]
        real = reference_pitch(audio, rate, settings.crepe)
        for seed in range(settings.seeds):
            for name in names:
                job = ex.job(sampler=name, steps=settings.steps, context=settings.context, new=settings.new, seed=seed)
                k = job.plan.known_length(len(prompt))
                states: dict[int, np.ndarray] = {}  # frame 0's x per level; RePaint keeps its last visit

                def on_step(frame, info, states=states, scale=job.plan.scale):
                    if frame == 0:  # in audio units, like the reference (the sampler's x is x data_scale)
                        states[info["n"]] = info["x"][0].float().cpu().numpy() / scale

                counter.calls = 0
                chunks, seconds = timed(lambda: list(ex.stream(prompt, rate, n_gen / rate, on_step=on_step, sampler=name,
                                                               steps=settings.steps, context=settings.context,
                                                               new=settings.new, seed=seed)))
                generated = np.concatenate(chunks)
                per[name]["nfe"].append(counter.calls / job.plan.frames_for(n_gen))
                per[name]["cost"].append(seconds / settings.generate)
                per[name]["ks"].append([ks(states[n][k:], reference) for n in sorted(states)])  # scored after timing
                per[name]["generated"].append(generated)
                first = ci == 0 and seed == 0
                per[name]["scores"].append(score(np.concatenate([prompt, generated]), real, n_prompt, rate, settings.crepe,
                                                 tracks if first else None, name))
                if first:
                    snapshots[name] = {"t=25": states[t_snap], "t=0": states[0]}
                    seam_in_frame = k
    counter.close()
    return summarise(settings, per, snapshots, tracks, pieces, schedule, rate, n_prompt, seam_in_frame)


def reference_pitch(real: np.ndarray, rate: int, crepe_model: str) -> dict:
    """CREPE f0/voicing and YIN f0 of a real clip, computed once per clip."""
    f0, per = crepe.pitch(real, rate, crepe_model)
    return {"crepe": f0, "voiced": per >= VOICED, "yin": yin(real, rate)}


def score(full: np.ndarray, real: dict, seam: int, rate: int, crepe_model: str, tracks: dict | None, name: str) -> dict:
    """Pitch, seam and click scores of prompt+continuation ``full`` against the real clip's pitch."""
    f0, per = crepe.pitch(full, rate, crepe_model)
    y = yin(full, rate)
    voiced = per >= VOICED
    s = seam // int(rate * 0.01)
    n = min(len(f0), len(real["crepe"]))
    m = min(len(y), len(real["yin"]), n)
    if tracks is not None:
        tracks[name] = {"crepe": f0, "yin": y, "voiced": voiced}
        tracks["reference"] = real
    return {
        "crepe_accuracy": pitch_accuracy(f0[s:n], real["crepe"][s:n], voiced[s:n], real["voiced"][s:n]),
        "yin_accuracy": pitch_accuracy(y[s:m], real["yin"][s:m], voiced[s:m], real["voiced"][s:m]),
        "seam_jump_cents": seam_pitch_jump_cents(f0, voiced, s),
        "seam_flux_ratio": seam_flux_ratio(full, seam, rate),
        "click_score": click_score(full, seam, rate),
        "voiced_fraction": float(voiced[s:].mean()),
        "periodicity_median": float(np.median(per[s:])),
    }


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def summarise(settings: Settings, per, snapshots, tracks, pieces, schedule, rate, n_prompt, seam_in_frame) -> dict:
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    real_emb = np.concatenate([crepe.embedding(a, rate, settings.crepe) for _, a in pieces])
    halves = [crepe.embedding(a[: len(a) // 2], rate, settings.crepe) for _, a in pieces], [crepe.embedding(a[len(a) // 2 :], rate, settings.crepe) for _, a in pieces]
    floor_fd = frechet_distance(np.concatenate(halves[0]), np.concatenate(halves[1]))
    rows, curves = [], {}
    for name, d in per.items():
        s = {k: _nanmean([x[k] for x in d["scores"]]) for k in d["scores"][0]}
        gen_emb = np.concatenate([crepe.embedding(g, rate, settings.crepe) for g in d["generated"]])
        ks_arr = np.array(d["ks"])  # [runs, steps, 2]
        curves[name] = {"statistic": ks_arr[:, :, 0].mean(0).tolist(), "pvalue": np.exp(np.log(np.clip(ks_arr[:, :, 1], plots.P_FLOOR, None)).mean(0)).tolist()}
        rows.append({"sampler": name, "NFE per frame": float(np.mean(d["nfe"])), "compute s per s": float(np.mean(d["cost"])),
                     "peak MB": peak_memory(settings, name) if not settings.skip_memory else float("nan"),
                     "CREPE acc": s["crepe_accuracy"], "YIN acc": s["yin_accuracy"],
                     "CREPE runs": int(sum(np.isfinite(x["crepe_accuracy"]) for x in d["scores"])),
                     "YIN runs": int(sum(np.isfinite(x["yin_accuracy"]) for x in d["scores"])),
                     "seam jump cents": s["seam_jump_cents"],
                     "seam flux ratio": s["seam_flux_ratio"], "click score": s["click_score"],
                     "clicks": int(sum(x["click_score"] > CLICK for x in d["scores"])), "runs": len(d["scores"]),
                     "voiced frac": s["voiced_fraction"], "FD CREPE": frechet_distance(gen_emb, real_emb),
                     "final KS": curves[name]["statistic"][0]})
    ref_full = pieces[0][1]
    figs = {"lambda": plots.lambda_curve(out / "fig2_lambda.png"),
            "ks": plots.ks_curves(out / "fig3_ks.png", curves, sorted(schedule.model_steps.tolist())),
            "t25": plots.waveforms(out / "fig4_t25.png", snapshots, rate, seam_in_frame, "t=25"),
            "t0": plots.waveforms(out / "fig5_t0.png", snapshots, rate, seam_in_frame, "t=0"),
            "pitch": plots.pitch_tracks(out / "fig6_pitch.png", tracks, n_prompt / rate, 0.01)}
    spec_audio = {"real": ref_full}
    spec_audio.update({n: np.concatenate([ref_full[:n_prompt], per[n]["generated"][0]]) for n in per})
    figs["spectrogram"] = plots.spectrogram(out / "spectrograms.png", spec_audio, rate, n_prompt / rate)
    result = {"machine": machine(), "clips": [n for n, _ in pieces], "seeds": settings.seeds, "steps": settings.steps,
              "prompt_s": settings.prompt, "generate_s": settings.generate, "crepe_model": settings.crepe, "rows": rows,
              "fd_real_vs_real": floor_fd, "ks_curves": curves, "figures": {k: str(v.name) for k, v in figs.items()}}
    write_json(out / "compare_samplers.json", result)
    (out / "compare_samplers.md").write_text(markdown(result))
    return result


COLUMNS = ["sampler", "NFE per frame", "compute s per s", "peak MB", "CREPE acc", "YIN acc", "CREPE runs", "YIN runs",
           "seam jump cents", "seam flux ratio", "click score", "clicks", "runs", "voiced frac", "FD CREPE", "final KS"]


def markdown(r: dict) -> str:
    return (f"Clips: {', '.join(r['clips'])}; {r['seeds']} seed(s); {r['steps']} steps; {r['prompt_s']} s prompts extended by "
            f"{r['generate_s']} s; CREPE model `{r['crepe_model']}`. Machine: {r['machine']}.\n\n"
            + table(r["rows"], COLUMNS)
            + f"\nFrechet distance of CREPE embeddings between the first and second halves of the real clips (the floor): "
              f"{r['fd_real_vs_real']:.3g}.\n")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", default=None, help="folder of clips [extend/examples]")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--out", type=Path, required=True)
    add_engine_args(p)
    p.add_argument("--prompt", type=float, default=5.0)
    p.add_argument("--generate", type=float, default=3.0)
    p.add_argument("--limit", type=int, default=None, help="use the first N clips")
    p.add_argument("--crepe", default="tiny", choices=["tiny", "full"])
    p.add_argument("--samplers", nargs="+", default=None, help="default: every sampler the model can run")
    p.add_argument("--skip-memory", action="store_true")
    return p


def main(argv=None) -> None:
    print(markdown(run(Settings.from_args(parser().parse_args(argv)))))


if __name__ == "__main__":
    run_script(main)
