"""A positive control for the continuation yardstick: a corpus of sustained harmonic tones.

On piano every model so far fades after the seam and holds no pitch. This corpus asks whether
the engine and the recipe can continue a note at all when the next second is predictable:
each file is a sequence of decaying harmonic tones (random pitch between 100 and 1400 Hz,
log-uniform; 6-12 partials of random weight; per-partial decay ``d0 (1 + c k)`` per second;
a new note every 0.6-2.5 s, the earlier ones ringing on), at the corpus's level (-20 dBFS RMS).
The yardstick's three synthetic notes (A2, A4, E6: ``d0 = 1.2``, ``c = 1/3``, 8 partials) lie
inside this family by design, so a model trained on it is scored in distribution.

    python -m benchmarks.tones corpus /work/tones --minutes 20
    diffwave train /work/tones --out training/tones --init diffwave/assets/piano-default.safetensors ...
    python -m benchmarks.continuation --model tones.safetensors --prompts synthetic
    python -m benchmarks.tones figure docs/tones --models bundled,tones.safetensors
    python -m benchmarks.tones denoise --models bundled,tones.safetensors
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from diffwave.io.errors import UserError, require_own_folder

from .common import run_script

F0_RANGE = (100.0, 1400.0)
GAP_RANGE = (0.6, 2.5)  # s between onsets
TARGET_RMS, PEAK_LIMIT = 0.1, 0.95
NYQUIST_MARGIN_HZ = 200.0
MANIFEST = "tones.csv"
RING_OUT = 9.0  # a partial ends where exp(-decay tau) = exp(-RING_OUT)


@dataclass(frozen=True)
class Family:
    """How the notes of a corpus are drawn. Ranges are (low, high), drawn uniformly.

    ``ring_on``: earlier notes sound on under a new one (a piano with the pedal down);
    otherwise each note stops where the next begins."""

    decay: tuple[float, float] = (0.5, 2.0)  # d0, 1/s, of the fundamental
    slope: tuple[float, float] = (0.2, 0.5)  # c: partial k decays at d0 (1 + c k)
    partials: tuple[int, int] = (6, 12)
    ring_on: bool = True


FAMILIES = {
    "harmonic": Family(),
    # The simplest narrowband audio: one steady sinusoid at a time, each until the next onset.
    "sines": Family(decay=(0.0, 0.0), slope=(0.0, 0.0), partials=(1, 1), ring_on=False),
}


def check_family(family: str, what: str = "") -> None:
    """One error line, prefixed ``what``, for a family that :data:`FAMILIES` does not hold."""
    if family not in FAMILIES:
        raise UserError(f"{what}unknown tone family {family!r}; choose from {', '.join(FAMILIES)}")


def note_sequence(seconds: float, rate: int, rng: np.random.Generator,
                  family: Family = FAMILIES["harmonic"]) -> tuple[np.ndarray, list[dict]]:
    """One file: tones struck one after another.

    Note n at onset s_n with pitch f_n: sum_k a_n w_k / k exp(-d_n (1 + c_n k) tau) sin(2 pi k f_n tau + phi_k),
    tau = t - s_n >= 0; each partial ends at exp(-9), or at the next onset unless ``family.ring_on``.
    Returns (audio [L] float32 at -20 dBFS RMS, one dict per note)."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    notes, onset = [], float(rng.uniform(0.0, 0.5))
    while onset < seconds - 0.2:
        f0 = float(np.exp(rng.uniform(*np.log(F0_RANGE))))
        d0, c = float(rng.uniform(*family.decay)), float(rng.uniform(*family.slope))
        amp = float(rng.uniform(0.4, 1.0))
        start = int(onset * rate)
        tau = t[start:] - t[start]
        if not family.ring_on:
            out[start:] = 0.0
        for k in range(1, int(rng.integers(family.partials[0], family.partials[1] + 1)) + 1):
            if k * f0 >= rate / 2 - NYQUIST_MARGIN_HZ:
                break
            weight = amp * rng.uniform(0.5, 1.5) / k
            decay = d0 * (1 + c * k)
            # stop at exp(-9): below 16-bit PCM
            m = min(len(tau), int(RING_OUT / decay * rate)) if decay > 0 else len(tau)
            out[start : start + m] += weight * np.exp(-decay * tau[:m]) * np.sin(2 * np.pi * k * f0 * tau[:m] + rng.uniform(0, 2 * np.pi))
        notes.append({"onset_s": round(onset, 4), "f0_hz": round(f0, 3), "decay": round(d0, 4), "slope": round(c, 4)})
        onset += float(rng.uniform(*GAP_RANGE))
    out *= TARGET_RMS / max(np.sqrt(np.mean(out**2)), 1e-12)
    peak = np.max(np.abs(out))
    if peak > PEAK_LIMIT:
        out *= PEAK_LIMIT / peak
    return out.astype(np.float32), notes


def write_corpus(folder: Path, minutes: float, seed: int = 0, rate: int = 16000, file_seconds: float = 60.0,
                 family: str = "harmonic") -> list[Path]:
    """Write ``ceil(minutes * 60 / file_seconds)`` FLAC files of :data:`FAMILIES` ``[family]`` and
    ``tones.csv`` (one row per note) into ``folder`` (new, empty, or one this function wrote).
    Deterministic in ``seed``."""
    if not minutes > 0 or not file_seconds > 0:
        raise UserError(f"minutes and file length must be positive, got {minutes} and {file_seconds}")
    check_family(family)
    require_own_folder(folder, (folder / MANIFEST).exists(), "output folder", "files this command did not write")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    count = int(np.ceil(minutes * 60 / file_seconds))
    paths, rows = [], []
    for i in range(count):
        audio, notes = note_sequence(file_seconds, rate, rng, FAMILIES[family])
        path = folder / f"tones{i:03d}.flac"
        sf.write(path, audio, rate, subtype="PCM_16")
        paths.append(path)
        rows += [{"file": path.name, **note} for note in notes]
    with open(folder / MANIFEST, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return paths


def family_prompt(f0: float, rate: int, family: str = "harmonic") -> np.ndarray:
    """6 s whose note of pitch ``f0`` sounds across the 5 s seam, after a note a fourth below.

    ``harmonic``: the yardstick's decaying synthetic note; ``sines``: steady sinusoids, the
    lower from 0 s, ``f0`` from 3.5 s, RMS 0.1 like the corpus. [L] float32"""
    from .continuation import steady_sine, synthetic_note

    check_family(family)
    return synthetic_note(f0, rate) if family == "harmonic" else steady_sine(f0, rate)


def figures(out: Path, models: dict[str, object], steps: int = 50, seed: int = 0, precision: str = "bf16",
            notes: tuple[float, ...] = (440.0, 110.0), family: str = "harmonic") -> list[Path]:
    """Spectrograms of what each model makes: the yardstick's synthetic notes extended by 1 s
    with ``lambda`` (last second of prompt + the new one; ``continuations.png``) and a 2 s
    unconditional sample (``samples.png``). A model that has learned tones draws horizontal
    partials after the seam and in its samples; noise is vertical smear. ``family`` picks the
    prompts (:func:`family_prompt`)."""
    import torch

    from diffwave.sampling import generate
    from diffwave.schedule import make_schedule
    from extend import Extender

    from . import plots
    from .continuation import PROMPT_S

    cont, free = {}, {}
    for name, model in models.items():
        rate, extender = model.config.sample_rate, Extender(model)
        for f0 in notes:
            note = family_prompt(f0, rate, family)
            y = extender.extend(note[: int(PROMPT_S * rate)], rate, 1.0, sampler="lambda", steps=steps,
                                       seed=seed, precision=precision)
            cont[f"{name}, {f0:g} Hz"] = y[int((PROMPT_S - 1) * rate):]
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            x = generate(model, torch.randn(1, 2 * rate, generator=g), make_schedule(model.config, steps), g)
        free[f"{name}, sample"] = x[0].numpy() / model.config.data_scale
    out.mkdir(parents=True, exist_ok=True)
    return [plots.spectrogram(out / "continuations.png", cont, rate, seam_s=1.0),
            plots.spectrogram(out / "samples.png", free, rate)]


DENOISE_TS = (20, 50, 100, 150)


def oracle_wiener_snr(x0: np.ndarray, alpha_bar: float, rng: np.random.Generator,
                      power: np.ndarray | None = None) -> float:
    """x0-SNR (dB) of a Wiener filter over the window, for scale. y = x0 + sqrt((1-abar)/abar) z
    (DDPM eq. 4 divided by sqrt(abar)); per rfft bin k, G_k = P_k / (P_k + n sigma^2), where P is
    each clip's own |X0_k|^2 (``power`` None: the best a linear filter can do, knowing the clip)
    or a fixed spectrum [n // 2 + 1] shared by all clips (what a filter that does not adapt to
    the clip can do). x0: [clips, n] float64."""
    n, sig2 = x0.shape[1], (1 - alpha_bar) / alpha_bar
    y = x0 + np.sqrt(sig2) * rng.standard_normal(x0.shape)
    power = np.abs(np.fft.rfft(x0, axis=1)) ** 2 if power is None else power
    est = np.fft.irfft(power / (power + n * sig2) * np.fft.rfft(y, axis=1), n=n, axis=1)
    return float(10 * np.log10(np.mean(x0**2) / np.mean((est - x0) ** 2)))


def subtraction_wiener_snr(x0: np.ndarray, alpha_bar: float, rng: np.random.Generator,
                           threshold: float | None = None) -> float:
    """x0-SNR (dB) of a classical denoiser that knows only the noise level, as the network does
    through t: power spectral subtraction over the window with the threshold ln(n / 2), then the
    Wiener gain (:func:`benchmarks.classical.subtraction_estimate`). Not tuned on any clip.
    y = x0 + sqrt((1-abar)/abar) z as for the oracle. x0: [clips, n] float64."""
    import torch

    from .classical import subtraction_estimate

    sig2 = (1 - alpha_bar) / alpha_bar
    y = x0 + np.sqrt(sig2) * rng.standard_normal(x0.shape)
    est = subtraction_estimate(torch.from_numpy(y), sig2, threshold).numpy()
    return float(10 * np.log10(np.mean(x0**2) / np.mean((est - x0) ** 2)))


def family_power(family: str, rate: int, n: int, scale: float, draws: int = 4) -> np.ndarray:
    """Mean |rfft|^2 of ``n``-sample crops of ``draws`` 60 s files of a family (seeds 1000+, in no
    corpus or test set here), at ``scale`` times the corpus level: the family's expected
    spectrum, for :func:`oracle_wiener_snr`'s fixed filter. [n // 2 + 1] float64"""
    crops = []
    for i in range(draws):
        audio = note_sequence(60.0, rate, np.random.default_rng(1000 + i), FAMILIES[family])[0].astype(np.float64)
        crops += [audio[j * n : (j + 1) * n] for j in range(len(audio) // n)]
    return np.mean(np.abs(np.fft.rfft(scale * np.stack(crops), axis=1)) ** 2, axis=0)


def denoise_table(models: dict[str, object], rate: int = 16000, seed: int = 0, family: str = "harmonic") -> list[dict]:
    """One pass on 1 s of noised audio, x0-SNR dB at :data:`DENOISE_TS` per model (the model
    card's measure), and the oracle Wiener filter, on: the synthetic notes (4.5-5.5 s), four
    fresh tone files of ``family`` (seeds 99-102, not in a seed-0 corpus) and the piano
    reference clips. Two Wiener filters give the scale (:func:`oracle_wiener_snr`): the oracle,
    which knows each clip's spectrum, and on the fresh tones a fixed filter, which knows only the
    family's mean spectrum (:func:`family_power`); and a classical denoiser that knows only the
    noise level (:func:`subtraction_wiener_snr`). All use the first model's schedule and data scale."""
    from diffwave.schedule import training_schedule

    from .common import clips
    from .continuation import SYNTH_NOTES, synthetic_note
    from .model_card import denoising_rows

    sets = {"synthetic notes (4.5-5.5 s)": [synthetic_note(f0, rate)[int(4.5 * rate):] for _, f0 in SYNTH_NOTES],
            f"fresh tones{'' if family == 'harmonic' else f' ({family})'}":
                [note_sequence(8.0, rate, np.random.default_rng(99 + i), FAMILIES[family])[0] for i in range(4)],
            "piano reference clips": [x for _, x in clips(None, rate)]}
    rows = []
    for name, audio in sets.items():
        row = {"audio": name}
        for label, model in models.items():
            snr = {r["t"]: r["model x0-SNR dB"] for r in denoising_rows(model, audio, seed=seed)}
            row[label] = " / ".join(f"{snr[t]:.1f}" for t in DENOISE_TS if t in snr)
        config = next(iter(models.values())).config
        schedule, g = training_schedule(config), np.random.default_rng(seed)
        x0 = np.stack([a[:rate] for a in audio]).astype(np.float64) * config.data_scale
        row["oracle Wiener"] = " / ".join(f"{oracle_wiener_snr(x0, float(schedule.alpha_bars[t]), g):.1f}"
                                          for t in DENOISE_TS if t < len(schedule))
        fixed = family_power(family, rate, rate, config.data_scale) if name.startswith("fresh") else None
        row["fixed Wiener (family spectrum)"] = "-" if fixed is None else " / ".join(
            f"{oracle_wiener_snr(x0, float(schedule.alpha_bars[t]), g, fixed):.1f}" for t in DENOISE_TS if t < len(schedule))
        row["spectral subtraction"] = " / ".join(
            f"{subtraction_wiener_snr(x0, float(schedule.alpha_bars[t]), g):.1f}" for t in DENOISE_TS if t < len(schedule))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    from .common import pick_models, table

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="write the tone corpus")
    c.add_argument("folder", type=Path)
    c.add_argument("--minutes", type=float, default=20.0)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--rate", type=int, default=16000)
    c.add_argument("--family", default="harmonic", help=f"which notes: {', '.join(FAMILIES)}")
    f = sub.add_parser("figure", help="spectrograms of continuations and samples per model")
    f.add_argument("out", type=Path)
    f.add_argument("--models", default="bundled", help="comma-separated: bundled, tiny or model files, each optionally LABEL=PATH")
    f.add_argument("--steps", type=int, default=50)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--family", default="harmonic", help=f"prompts from: {', '.join(FAMILIES)}")
    f.add_argument("--precision", default="bf16", help="auto, fp32 or bf16 (emulated, so slow, on CPUs without bf16 units)")
    d = sub.add_parser("denoise", help="x0-SNR per model at t = 20/50/100/150 on tones and piano, with an oracle")
    d.add_argument("--models", default="bundled", help="comma-separated: bundled, tiny or model files, each optionally LABEL=PATH")
    d.add_argument("--family", default="harmonic", help=f"fresh tones from: {', '.join(FAMILIES)}")
    args = p.parse_args(argv)
    check_family(args.family, "--family: ")
    if args.command == "corpus":
        paths = write_corpus(args.folder, args.minutes, args.seed, args.rate, family=args.family)
        print(f"wrote {len(paths)} files ({args.minutes:g} min, {args.family}) and {MANIFEST} to {args.folder}")
        return
    models = pick_models(args.models)
    if args.command == "denoise":
        rows = denoise_table(models, family=args.family)
        print(table(rows, list(rows[0])))
        return
    for path in figures(args.out, models, args.steps, args.seed, args.precision, family=args.family):
        print(f"wrote {path}")


if __name__ == "__main__":
    run_script(main)
