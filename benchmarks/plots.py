"""Figures for the benchmark report (matplotlib). Each function writes one PNG.

The benchmark entry points select the Agg backend (:func:`benchmarks.common.run_script`);
importing this module changes nothing process-wide."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from extend.samplers.schedules import lambda_schedule

COLORS = {"lambda": "C0", "naive": "C1", "repaint": "C2", "guidance": "C3", "ddim": "C4", "forcing": "C5", "reference": "0.3"}
# KS p-values on tens of thousands of samples underflow; they are clipped here before the
# geometric mean over runs, and the plot marks the clip so a flat line is not read as data.
P_FLOOR = 1e-300


def save(fig, path: Path) -> Path:
    """Write a figure as PNG (tight layout, 110 dpi) and close it: every benchmark figure goes through here."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lambda_curve(path: Path, steps: int = 200, other: int = 50) -> Path:
    """Paper Fig. 2: reverse lambda against reverse steps taken."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(np.arange(steps), lambda_schedule(steps).numpy(), label=f"paper-exact, {steps} steps", color="C0")
    ax.plot(np.arange(other) * steps / other, lambda_schedule(other).numpy(), "--", label=f"T-agnostic, {other} steps", color="C3")
    ax.set_xlabel(f"reverse steps taken (scaled to {steps})")
    ax.set_ylabel("lambda")
    ax.set_title("Reverse lambda schedule (weight of the model in the known region)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def ks_curves(path: Path, curves: dict[str, dict[str, list[float]]], model_steps: list[float]) -> Path:
    """Paper Fig. 3: KS statistic and p-value between generated and reference samples at every t."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for name, c in curves.items():
        axes[0].plot(model_steps, c["statistic"], label=name, color=COLORS.get(name))
        axes[1].plot(model_steps, c["pvalue"], label=name, color=COLORS.get(name))
    axes[1].axhline(P_FLOOR, color="k", ls=":", lw=1, label=f"clipped: p < {P_FLOOR:.0e}")
    for ax, label in zip(axes, ["KS statistic (lower = closer)", "KS p-value (higher = closer)"]):
        ax.set_xlabel("diffusion step t (reverse process runs right to left)")
        ax.set_ylabel(label)
        ax.invert_xaxis()
        ax.grid(alpha=0.3)
        ax.legend()
    axes[1].set_yscale("log")
    axes[1].set_ylim(P_FLOOR * 1e-12, 2.0)  # p <= 1; a fixed range also keeps an all-clipped run plottable
    return save(fig, path)


def waveforms(path: Path, snapshots: dict[str, dict[str, np.ndarray]], rate: int, seam: int, label: str) -> Path:
    """Paper Figs. 4/5: each sampler's x_t over the frame at one step, from the same noise."""
    names = list(snapshots)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.8 * len(names)), sharex=True, sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names):
        x = snapshots[name][label]
        t = np.arange(len(x)) / rate
        ax.plot(t, x, lw=0.4, color=COLORS.get(name))
        ax.axvline(seam / rate, color="k", lw=0.8, ls=":")
        ax.set_ylabel(name)
    np.atleast_1d(axes)[-1].set_xlabel("seconds in the frame (dotted: seam)")
    fig.suptitle(f"x at {label}")
    return save(fig, path)


def pitch_tracks(path: Path, tracks: dict[str, dict[str, np.ndarray]], seam_s: float, hop_s: float) -> Path:
    """Paper Fig. 6: CREPE and YIN pitch of prompt + continuation per sampler, reference overlaid."""
    names = [n for n in tracks if n != "reference"]
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.2 * len(names)), sharex=True, sharey=True)
    ref = tracks.get("reference")
    for ax, name in zip(np.atleast_1d(axes), names):
        tr = tracks[name]
        t = np.arange(len(tr["crepe"])) * hop_s
        ax.plot(t, np.where(tr["voiced"], tr["crepe"], np.nan), ".", ms=2, color=COLORS.get(name), label="CREPE (voiced)")
        ax.plot(np.arange(len(tr["yin"])) * hop_s, tr["yin"], lw=0.6, color="0.6", label="YIN")
        if ref is not None:
            tr_ = np.arange(len(ref["crepe"])) * hop_s
            ax.plot(tr_, np.where(ref["voiced"], ref["crepe"], np.nan), ".", ms=2, color="k", alpha=0.35, label="real audio (CREPE)")
        ax.axvline(seam_s, color="k", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_ylabel(f"{name}\nHz")
        ax.legend(loc="upper left", fontsize=7, ncol=3)
    np.atleast_1d(axes)[-1].set_xlabel("seconds (dotted: end of prompt)")
    return save(fig, path)


def oracle_bars(path: Path, results: dict[str, dict]) -> Path:
    """Oracle scores per sampler: mean error, variance ratio and KS, near the seam and far."""
    names = list(results)
    metrics = [("mean_error", "mean error (cond. std units)"), ("variance_ratio", "variance ratio (1 = exact)"), ("ks", "KS vs exact samples")]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    width = 0.38
    for ax, (key, label) in zip(axes, metrics):
        x = np.arange(len(names))
        ax.bar(x - width / 2, [results[n]["near_seam"][key] for n in names], width, label="near seam")
        ax.bar(x + width / 2, [results[n]["far"][key] for n in names], width, label="far")
        floor = np.mean([results[n]["exact_floor_near"][key] for n in names])
        ax.axhline(floor, color="k", ls=":", lw=1, label="exact sampler")
        ax.set_xticks(x, names)
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=7)
    return save(fig, path)


def spectrogram(path: Path, audio: dict[str, np.ndarray], rate: int, seam_s: float | None = None) -> Path:
    """Log-magnitude spectrograms (librosa STFT) stacked, one per named signal."""
    import librosa

    fig, axes = plt.subplots(len(audio), 1, figsize=(9, 2.2 * len(audio)), sharex=True)
    for ax, (name, x) in zip(np.atleast_1d(axes), audio.items()):
        s = librosa.amplitude_to_db(np.abs(librosa.stft(np.asarray(x, dtype=np.float32), n_fft=1024, hop_length=256)), ref=1.0)
        ax.imshow(s, origin="lower", aspect="auto", extent=[0, len(x) / rate, 0, rate / 2], vmin=-80, vmax=20, cmap="magma")
        if seam_s is not None:
            ax.axvline(seam_s, color="w", lw=0.8, ls=":")
        ax.set_ylim(0, 4000)
        ax.set_ylabel(f"{name}\nHz")
    np.atleast_1d(axes)[-1].set_xlabel("seconds")
    return save(fig, path)


def energy_across_seam(path: Path, envelopes: dict, start_s: float, hop_s: float) -> Path:
    """RMS in dB against time from the seam: the real continuation and each sampler (medians over prompts)."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, env in envelopes.items():
        env = np.asarray(env)
        t = start_s + hop_s * (np.arange(len(env)) + 0.5)
        label = "real continuation" if name == "real" else name
        ax.plot(t, 20 * np.log10(np.maximum(env, 1e-5)), label=label, color=COLORS.get(name, COLORS["reference"] if name == "real" else None),
                lw=2.2 if name == "real" else 1.5, ls="--" if name == "real" else "-")
    ax.axvline(0.0, color="k", lw=0.8)
    ax.text(0.01, 0.02, "seam", transform=ax.get_xaxis_transform(), fontsize=8)
    ax.set_xlabel("time from the seam (s)")
    ax.set_ylabel(f"RMS in {hop_s * 1000:.0f} ms windows (dB)")
    ax.set_title("Energy across the seam (median over prompts)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return save(fig, path)


def _raw_and_mean(ax, steps: np.ndarray, values: np.ndarray, k: int, color: str, label: str, alpha: float) -> None:
    """A logged series faint, and its running mean of ``k`` rows bold and labelled."""
    ax.plot(steps, values, color=color, alpha=alpha, lw=0.8)
    ax.plot(steps[k - 1 :], np.convolve(values, np.ones(k) / k, mode="valid"), color=color, lw=1.8,
            label=f"{label} (mean of {k} log rows)")


def loss_parity(path: Path, logs: dict, start: int) -> Path:
    """Training loss of runs resumed from one state (same batches and noise): raw and a running mean."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for i, (name, rows) in enumerate(logs.items()):
        steps, loss = (np.array(v) for v in zip(*rows))
        _raw_and_mean(ax, steps, loss, max(1, min(25, len(loss) // 4)), f"C{i}", name, 0.25)
    ax.set_xlabel(f"training step (both resumed from step {start})")
    ax.set_ylabel("training loss")
    ax.set_title("bf16 autocast against fp32: same batches, same noise")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def loss_ratio(path: Path, logs: dict, title: str) -> Path:
    """Each run's logged loss over the first run's at the same steps (same batches, so batch noise
    cancels): raw and a running mean, with 1 marked."""
    (base, base_rows), *others = logs.items()
    base_loss = dict(base_rows)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.axhline(1.0, color="0.3", lw=1)
    for i, (name, rows) in enumerate(others):
        steps, ratio = (np.array(v) for v in zip(*[(s, v / base_loss[s]) for s, v in rows if s in base_loss]))
        _raw_and_mean(ax, steps, ratio, max(1, min(10, len(ratio) // 4)), f"C{i + 1}", f"{name} / {base}", 0.3)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss ratio, same batches")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def long_run(path: Path, curves: dict[str, dict[str, list[float]]]) -> Path:
    """Per new second, per guide: level (dBFS), replay of the prompt (solid) and seed echo
    (dashed, where measured) (medians over clips)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.6), sharex=True)
    for name, curve in curves.items():
        seconds = np.arange(1, len(curve["level dBFS"]) + 1)
        line, = top.plot(seconds, curve["level dBFS"], marker=".", label=name)
        bottom.plot(seconds, curve["replay"], marker=".", color=line.get_color())
        if np.isfinite(curve.get("seed echo", [np.nan])).any():
            bottom.plot(seconds, curve["seed echo"], ls="--", color=line.get_color())
    top.set_ylabel("level (dBFS)")
    top.set_title("Per new second, median over clips: level; replay of the prompt (solid), seed echo (dashed)",
                  fontsize=9)
    bottom.set_ylabel("correlation")
    bottom.set_ylim(-0.1, 1.05)
    bottom.set_xlabel("new second")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    top.legend(fontsize=8)
    return save(fig, path)
