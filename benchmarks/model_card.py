"""Regenerate every measured number on docs/model-card.md.

Unconditional 5 s samples from the model are measured side by side with the validation
clips (extend/examples): CREPE periodicity and voiced fraction, YIN pitch range, spectral
centroid distribution, and the KS statistic of sample values. The training record comes
from the run folder's log. The text between the card's ``<!-- measured -->`` markers is
replaced; the rest of the card is prose.

    python -m benchmarks.model_card --run training/piano-rf1s-dense20 --card docs/model-card.md
    python -m benchmarks.model_card --model m.safetensors --denoising-only   # the x0-SNR table alone
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from diffwave.checkpoint import read_metadata
from diffwave.pretrained import DEFAULT_MODEL
from diffwave.sampling import forward_noise, generate, predict_eps
from diffwave.schedule import make_schedule, training_schedule
from diffwave.training.runlog import plot_loss, read_rows

from . import crepe, plots
from .common import UserError, clips, machine, pick_model, replace_section, run_script, table, timed, write_json
from .metrics import VOICED, ks, spectral_centroid, yin


def describe(group: list[np.ndarray], rate: int, crepe_model: str) -> dict:
    per, voiced_frac, f0s, cents = [], [], [], []
    for x in group:
        _, p = crepe.pitch(x, rate, crepe_model)
        y = yin(x, rate)
        v = p >= VOICED
        per.append(np.median(p))
        voiced_frac.append(v.mean())
        n = min(len(y), len(v))
        f0s.append(y[:n][v[:n]])
        cents.append(spectral_centroid(x, rate))
    f0 = np.concatenate(f0s)
    f0 = f0[np.isfinite(f0)]
    p5, p95 = np.percentile(f0, [5, 95]) if len(f0) else (np.nan, np.nan)  # no voiced frame: no pitch range
    c = np.concatenate(cents)
    return {"CREPE periodicity (median)": float(np.median(per)), "voiced fraction": float(np.mean(voiced_frac)),
            "YIN f0 p5 Hz": float(p5), "YIN f0 p95 Hz": float(p95),
            "centroid median Hz": float(np.median(c)), "centroid IQR Hz": float(np.subtract(*np.percentile(c, [75, 25]))),
            "RMS": float(np.sqrt(np.mean(np.concatenate(group) ** 2))), "_centroids": c}


DENOISE_STEPS = (0, 5, 20, 50, 100, 150, 199)


def denoising_rows(model, val: list[np.ndarray], seconds: float = 1.0, seed: int = 0) -> list[dict]:
    """How well one pass recovers real audio: x0-SNR of the model's estimate at several t.

    x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps (DDPM eq. 4) on the first ``seconds`` of each
    validation clip (x0 [clips, n]), x0_hat = (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t).
    Baselines: x_t / sqrt(abar_t) (no denoising) and 0 dB (predicting silence). A model that has
    learned piano beats both. A model with a per-block spectral prior needs rows of the engine's
    frame (5 s): on 1 s rows a 4 s block is mostly zero padding.
    """
    n = int(seconds * model.config.sample_rate)
    short = min(len(x) for x in val)
    if n < 1:
        raise UserError(f"denoising rows need a positive length, got {seconds:g} s")
    if short < n:
        raise UserError(f"denoising rows of {seconds:g} s need clips that long; the shortest is "
                         f"{short / model.config.sample_rate:.2f} s")
    x0 = torch.from_numpy(np.stack([x[:n] for x in val])).float() * model.config.data_scale  # [clips, n]
    schedule = training_schedule(model.config)
    g = torch.Generator().manual_seed(seed)
    power = x0.pow(2).mean()
    rows = []
    for t in DENOISE_STEPS:
        if t >= len(schedule):
            continue
        a = float(schedule.alpha_bars[t])
        eps = torch.randn(x0.shape, generator=g)
        xt = forward_noise(x0, a, eps)
        with torch.no_grad():
            eps_hat = predict_eps(model, xt, schedule, t)
        x0_hat = (xt - (1 - a) ** 0.5 * eps_hat) / a**0.5
        rows.append({"t": t, "model x0-SNR dB": float(10 * torch.log10(power / (x0_hat - x0).pow(2).mean())),
                     "no-denoising SNR dB": float(10 * torch.log10(a * power / (1 - a))),
                     "eps L1": float((eps_hat - eps).abs().mean())})
    return rows


def centroid_plot(path: Path, gen: np.ndarray, val: np.ndarray) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    bins = np.linspace(0, 4000, 60)
    ax.hist(val, bins, alpha=0.6, density=True, label="validation audio")
    ax.hist(gen, bins, alpha=0.6, density=True, label="model samples")
    ax.set_xlabel("spectral centroid (Hz)")
    ax.set_ylabel("density")
    ax.legend()
    plots.save(fig, path)


def measure(model, val: list[np.ndarray], samples: int = 8, seconds: float = 5.0, steps: int = 50,
            crepe_model: str = "tiny") -> dict:
    """Everything the card measures about one model: ``samples`` unconditional clips of
    ``seconds`` (seeded noise, so reruns repeat), their statistics, KS against ``val`` and the
    one-pass denoising table. ``val``: validation clips, each at least ``seconds`` long."""
    rate = model.config.sample_rate
    n = int(seconds * rate)
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(samples, n, generator=gen)
    audio, secs = timed(generate, model, noise, make_schedule(model.config, steps), gen)
    clipped = [np.clip(a / model.config.data_scale, -1, 1) for a in audio.numpy()]
    stat, _ = ks(np.concatenate(clipped), np.concatenate([x[:n] for x in val]))
    return {"audio": clipped, "seconds_to_generate": secs, "stats": describe(clipped, rate, crepe_model), "ks": stat,
            "denoising": denoising_rows(model, val, min(1.0, seconds))}  # the card's rows: 1 s, or val's length


def add_measure_args(p: argparse.ArgumentParser) -> None:
    """Options of :func:`measure` and where its output goes; shared with benchmarks.progress."""
    p.add_argument("--card", type=Path, default=Path("docs/model-card.md"))
    p.add_argument("--figures", type=Path, default=Path("docs/model-card"))
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--crepe", default="tiny", choices=["tiny", "full"])
    p.add_argument("--clips", type=int, default=None, help="use the first N validation clips (default: all)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--run", type=Path, default=Path("training/piano-rf1s-dense20"))  # the bundled model's run
    p.add_argument("--denoising-only", action="store_true",
                   help="print the one-pass denoising table; sample and write nothing")
    p.add_argument("--denoise-seconds", type=float, default=1.0,
                   help="with --denoising-only: score the first N s of each clip (5 fits a block prior) [1]")
    add_measure_args(p)
    args = p.parse_args(argv)
    model = pick_model(args.model, args.tiny)
    rate = model.config.sample_rate
    if args.denoising_only:
        rows = denoising_rows(model, [x for _, x in clips(None, rate, args.clips)], args.denoise_seconds)
        print(table(rows, ["t", "model x0-SNR dB", "no-denoising SNR dB", "eps L1"]))
        return
    n = int(args.seconds * rate)
    val = [x[:n] for _, x in clips(None, rate, args.clips)]
    m = measure(model, val, args.samples, args.seconds, args.steps, args.crepe)
    samples, g, v = m["audio"], m["stats"], describe(val, rate, args.crepe)
    args.figures.mkdir(parents=True, exist_ok=True)
    centroid_plot(args.figures / "centroid.png", g.pop("_centroids"), v.pop("_centroids"))
    plots.spectrogram(args.figures / "spectrogram.png", {"validation clip01": val[0], "sample 1": samples[0], "sample 2": samples[1]}, rate)
    import soundfile as sf

    for i, s in enumerate(samples[:2]):
        sf.write(args.figures / f"sample{i + 1}.flac", s, rate, subtype="PCM_16")
    rows = [{"measure": k, "model samples": g[k], "validation audio": v[k]} for k in g]
    rows.append({"measure": "KS statistic, sample values (model vs validation)", "model samples": m["ks"], "validation audio": 0.0})
    measured_file = Path(args.model) if args.model else (None if args.tiny else DEFAULT_MODEL)
    record = training_record(args.run, args.figures, measured_file)
    body = (f"Measured by `python -m benchmarks.model_card` on {machine()}: {args.samples} unconditional "
            f"{args.seconds:g} s samples ({args.steps} steps, {m['seconds_to_generate']:.0f} s to generate) against the first "
            f"{args.seconds:g} s of the {len(val)} validation clips; CREPE model `{args.crepe}`, voiced = periodicity >= {VOICED}.\n\n"
            + table(rows, ["measure", "model samples", "validation audio"])
            + "\n![spectrograms](model-card/spectrogram.png)\n\n![spectral centroid](model-card/centroid.png)\n\n"
            + "Listen: [sample 1](model-card/sample1.flac), [sample 2](model-card/sample2.flac).\n\n"
            + "One denoising pass on 1 s of each validation clip: the SNR of the model's x0 estimate against the "
            "input's own SNR (no denoising) and 0 dB (predicting silence).\n\n"
            + table(m["denoising"], ["t", "model x0-SNR dB", "no-denoising SNR dB", "eps L1"]) + "\n"
            + record)
    write_json(args.figures / "measured.json", {"model": g, "validation": v, "ks": m["ks"], "denoising": m["denoising"],
                                                "machine": machine()})
    replace_section(args.card, "measured", body)
    print(body)


def training_record(run: Path, figures: Path, model_path: Path | None) -> str:
    """The run's log and the measured model's own training metadata (steps, options)."""
    rows = read_rows(run / "log.csv")
    if not rows:
        return "No training log found.\n"
    plot_loss(run / "log.csv", figures / "loss.png", title=f"{run.name}: training loss (mean per log interval)")
    meta = read_metadata(model_path) if model_path is not None and model_path.exists() else {}
    last = rows[-1]
    return (f"### Training record\n\nSteps: {int(last['step'])} (this model: "
            f"{meta.get('training_steps', 'n/a')}); last logged rate {last['steps_per_s']:.2f} steps/s; "
            f"logged loss at the end {last['loss']:.4f}. Options: `{json.loads(meta['train']) if 'train' in meta else 'n/a'}`.\n\n"
            "![loss curve](model-card/loss.png)\n")


if __name__ == "__main__":
    run_script(main)
