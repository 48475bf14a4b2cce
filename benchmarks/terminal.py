"""Does the model start where sampling starts? The top noise level, measured.

    python -m benchmarks.terminal --models bundled,"my run=path/to/model.safetensors" --out docs/terminal

Sampling starts from white noise x_T ~ N(0, (1 - abar_T) I). Training shows the network
x_T = sqrt(abar_T) x0 + sqrt(1 - abar_T) eps, and with the plain schedule (abar_T = 0.13) x0 is
still visible there. For each model, on 1 s of each reference clip (times ``data_scale``):
- **x0 from a real x_T**: RMS of the one-pass estimate x0_hat (DDPM eq. 15) at t = T-1, over the
  clips' RMS: what the network recovers when the audio is in x_T, as in training;
- **x0 from white noise**: the same from white noise of that x_T's RMS, as in sampling;
- **x0 slope at t**: <x0, x0_hat> / <x0_hat, x0_hat> on real x_t. The conditional mean (what the
  samplers assume) has slope 1, by orthogonality; above 1 the estimate is shrunk toward silence,
  as an L1 loss's conditional median is for sparse audio;
- **samples**: the RMS of unconditional samples (``--steps``) over the clips' RMS, and the x RMS
  along the reverse process against the forward marginal's sqrt(abar s^2 + 1 - abar), plotted;
- **restart from t**: the clips noised to level t (DDPM eq. 4) and taken back to 0 by the model's
  own ``--steps`` ancestral steps (SDEdit): output RMS over the clips' and the output's SNR
  against the clips. A right model keeps RMS 1 from every level (its samples are audio, even where
  they are not the clip); where the ratio drops is the noise level at which the model stops
  making audio on its own. Plotted against t.
A model whose samples are quiet because it sees nothing at the start scores high on the first
column and low on the other two. Writes OUT.md, OUT/terminal.json, OUT/trajectory.png and
OUT/restart.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from diffwave.sampling import Denoiser, forward_noise, generate, predict_eps, step_from_eps, x0_estimate
from diffwave.schedule import Schedule, make_schedule, training_schedule

from .common import clips, machine, pick_models, replace_section, run_script, table, write_json

SLOPE_LEVELS = (100, 150, 180)  # fractions of T = 200; scaled for other T
RESTART_LEVELS = (50, 100, 150, 199)  # the same, for the restart measure
COLUMNS = ["model", "abar_T", "x0 from a real x_T / data RMS", "x0 from white noise / data RMS",
           *[f"x0 slope t={t}" for t in SLOPE_LEVELS], "samples / data RMS",
           *[f"restart t={t}: RMS / data" for t in RESTART_LEVELS], *[f"restart t={t}: SNR dB" for t in RESTART_LEVELS]]


def rms(x: torch.Tensor) -> float:
    return float(x.double().pow(2).mean().sqrt())


@torch.no_grad()
def top_level(model: Denoiser, schedule: Schedule, x0: torch.Tensor, generator: torch.Generator) -> dict:
    """One pass at the top level of ``schedule`` from a real x_T and from white noise of the same RMS.
    x0 [B, L] in model units."""
    n = len(schedule) - 1
    abar = float(schedule.alpha_bars[n])
    real = forward_noise(x0, abar, torch.randn(x0.shape, generator=generator))
    white = torch.randn(x0.shape, generator=generator) * rms(real)
    scale = rms(x0)
    return {"abar_T": abar,
            "x0 from a real x_T / data RMS": rms(x0_estimate(real, predict_eps(model, real, schedule, n), schedule, n)) / scale,
            "x0 from white noise / data RMS": rms(x0_estimate(white, predict_eps(model, white, schedule, n), schedule, n)) / scale}


@torch.no_grad()
def x0_slope(model: Denoiser, schedule: Schedule, x0: torch.Tensor, n: int, generator: torch.Generator) -> float:
    """<x0, x0_hat> / <x0_hat, x0_hat> at level n of ``schedule`` (1 for the conditional mean). x0 [B, L]."""
    x = forward_noise(x0, float(schedule.alpha_bars[n]), torch.randn(x0.shape, generator=generator))
    est = x0_estimate(x, predict_eps(model, x, schedule, n), schedule, n).double()
    return float((est * x0.double()).sum() / (est * est).sum().clamp_min(1e-30))


@torch.no_grad()
def trajectory(model: Denoiser, schedule: Schedule, data_rms: float, count: int, length: int,
               generator: torch.Generator) -> dict:
    """Unconditional samples [count, length]: their RMS, and x's RMS per reverse step with the marginal's."""
    x_rms, expected = [], []

    def on_step(d: dict) -> None:
        a = schedule.alpha_bar_after(d["n"])
        x_rms.append(rms(d["x"]))
        expected.append((a * data_rms**2 + 1.0 - a) ** 0.5)

    noise = torch.randn(count, length, generator=generator)
    out = generate(model, noise, schedule, generator, on_step)
    return {"samples / data RMS": rms(out) / data_rms, "x RMS": x_rms, "marginal RMS": expected}


@torch.no_grad()
def restart(model: Denoiser, schedule: Schedule, x0: torch.Tensor, start: int, generator: torch.Generator) -> dict:
    """Noise x0 [B, L] to level ``start`` of ``schedule`` (DDPM eq. 4), run the reverse steps start..0.

    Returns the output's RMS over x0's and its SNR in dB against x0 (0 dB: no more like x0 than silence)."""
    x = forward_noise(x0, float(schedule.alpha_bars[start]), torch.randn(x0.shape, generator=generator))
    for n in range(start, -1, -1):
        x = step_from_eps(x, predict_eps(model, x, schedule, n), schedule, n, generator)
    err = float((x - x0).double().pow(2).sum())
    return {"rms": rms(x) / rms(x0), "snr": 10.0 * float(np.log10(float(x0.double().pow(2).sum()) / max(err, 1e-30)))}


def nearest_step(schedule: Schedule, t: int) -> int:
    """The index of ``schedule`` whose network step is nearest t, with t on the scale of T = 200."""
    top = float(schedule.model_steps[-1])
    return int((schedule.model_steps - t * top / 199).abs().argmin())


def plot(path: Path, runs: dict[str, dict]) -> Path:
    """x's RMS over the forward marginal's at each reverse step, one line per model (1 = on track)."""
    import matplotlib.pyplot as plt

    from .plots import save

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for k, (label, r) in enumerate(runs.items()):
        ratio = np.asarray(r["x RMS"]) / np.asarray(r["marginal RMS"])
        ax.plot(np.arange(1, len(ratio) + 1), ratio, color=f"C{k}", label=label)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("reverse step")
    ax.set_ylabel("RMS of x / forward marginal's")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Unconditional sampling: does x keep the marginal's level?")
    return save(fig, path)


def plot_restart(path: Path, runs: dict[str, dict]) -> Path:
    """Restart output RMS over the data's against the start level, one line per model (1 = makes audio)."""
    import matplotlib.pyplot as plt

    from .plots import save

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.4 + 0.18 * len(runs)))
    for k, (label, r) in enumerate(runs.items()):
        left.plot(r["t"], r["rms"], "o-", color=f"C{k}", label=label)
        right.plot(r["t"], r["snr"], "o-", color=f"C{k}")
    left.axhline(1.0, color="0.5", lw=0.8, ls=":")
    right.axhline(0.0, color="0.5", lw=0.8, ls=":")
    left.set_ylim(0, 1.1)
    left.set_ylabel("output RMS / clip RMS")
    right.set_ylabel("output SNR against the clip, dB")
    for ax in (left, right):
        ax.set_xlabel("restart level t (of 200)")
    fig.suptitle("Noise real piano to t, denoise with the model: what comes back?", fontsize=10)
    left.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.2), frameon=False)  # below: curves fill the axes
    return save(fig, path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="bundled",
                   help="comma-separated model files, each optionally LABEL=PATH ('bundled': the bundled model)")
    p.add_argument("--tiny", action="store_true", help="random tiny model (smoke test)")
    p.add_argument("--steps", type=int, default=50, help="reverse steps for the unconditional samples")
    p.add_argument("--samples", type=int, default=4, help="unconditional samples per model")
    p.add_argument("--seconds", type=float, default=2.0, help="length of each sample")
    p.add_argument("--clips", type=int, default=None, help="the first N reference clips (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("docs/terminal"))
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    rows, runs, restarts = [], {}, {}
    for name, model in pick_models("tiny" if args.tiny else args.models).items():
        rate = model.config.sample_rate
        x0 = torch.from_numpy(np.stack([a[:rate] for _, a in clips(None, rate, args.clips)])).float()
        x0 = x0 * model.config.data_scale
        g = torch.Generator().manual_seed(args.seed)
        full = training_schedule(model.config)
        row = {"model": name, **top_level(model, full, x0, g)}
        for t in SLOPE_LEVELS:
            row[f"x0 slope t={t}"] = x0_slope(model, full, x0, nearest_step(full, t), g)
        fast = make_schedule(model.config, args.steps)
        run = trajectory(model, fast, rms(x0), args.samples, int(args.seconds * rate), g)
        row["samples / data RMS"] = run["samples / data RMS"]
        back = {"t": list(RESTART_LEVELS), "rms": [], "snr": []}
        for t in RESTART_LEVELS:
            r = restart(model, fast, x0, nearest_step(fast, t), g)
            row[f"restart t={t}: RMS / data"], row[f"restart t={t}: SNR dB"] = r["rms"], r["snr"]
            back["rms"].append(r["rms"])
            back["snr"].append(r["snr"])
        rows.append(row)
        runs[name], restarts[name] = run, back
        print(table(rows[-1:], COLUMNS), flush=True)
    write_json(args.out / "terminal.json", {"rows": rows, "trajectories": runs, "restarts": restarts,
                                            "steps": args.steps, "machine": machine()})
    plot(args.out / "trajectory.png", runs)
    plot_restart(args.out / "restart.png", restarts)
    body = (f"{args.samples} unconditional samples of {args.seconds:g} s per model, {args.steps} steps; "
            f"{(time.perf_counter() - t0) / 60:.1f} min on {machine()}.\n\n" + table(rows, COLUMNS)
            + f"\n![x RMS over the forward marginal's along the reverse process]({args.out.name}/trajectory.png)\n"
            + f"\n![restart from real audio noised to t]({args.out.name}/restart.png)\n")
    replace_section(args.out.with_suffix(".md"), "terminal", body)
    print(table(rows, COLUMNS))


if __name__ == "__main__":
    run_script(main)
