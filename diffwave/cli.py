"""``diffwave`` command line: train, export, grow, sample, corpus, shards."""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .checkpoint import load_model
from .config import ModelConfig
from .io.audio import write_audio
from .io.cli_util import run_app, warn
from .io.errors import UserError
from .io.numbers import duration_ok
from .io.outputs import check_audio_output, check_output
from .pretrained import default_model_path
from .runtime.allocator import retain_freed_memory
from .runtime.devices import resolve_device
from .runtime.precision import emulated_bf16_warning
from .sampling import generate
from .schedule import make_schedule

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train, export and sample unconditional DiffWave models.")


@app.command("train")
def train_cmd(
    data_dir: Path = typer.Argument(..., help="Folder of audio files (wav/flac/ogg/mp3, any rate/channels)."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints, log.csv, loss.png. Rerun to resume."),
    sample_rate: Optional[int] = typer.Option(None, help="Model sample rate (default 16000)."),
    channels: Optional[int] = typer.Option(None, help="Residual channels (default 64)."),
    layers: Optional[int] = typer.Option(None, help="Residual layers (default 30)."),
    dilation_cycle: Optional[int] = typer.Option(None, help="Dilation cycle length (default 10)."),
    parameterization: Optional[str] = typer.Option(None, help="What the network predicts: eps or v (default eps)."),
    data_scale: Optional[float] = typer.Option(None, help="Gain on audio before diffusion (default 1.0)."),
    mixed_levels: Optional[bool] = typer.Option(None, "--mixed-levels/--no-mixed-levels",
                                                help="Train with mixed noise levels per window (diffusion forcing); "
                                                     "enables --sampler forcing."),
    spectral_prior: Optional[bool] = typer.Option(None, "--spectral-prior/--no-spectral-prior",
                                                  help="Learn a correction to spectral subtraction over the whole "
                                                       "window (diffwave.spectral); an --init model gets it from "
                                                       "`diffwave grow --spectral-prior`."),
    spectral_zero_pad: Optional[bool] = typer.Option(None, "--spectral-zero-pad/--no-spectral-zero-pad",
                                                     help="With the spectral prior: zero-pad its FFT to twice the "
                                                          "window, so its filter does not wrap the window's end onto "
                                                          "its start (models before 2026-12-07 wrap)."),
    spectral_block: Optional[int] = typer.Option(None, help="With the spectral prior: run it per STFT block of N "
                                                 "samples (hop N/4) instead of the whole window; 0 = whole window."),
    mixed_fraction: float = typer.Option(0.5, help="With --mixed-levels: share of crops that get mixed levels."),
    terminal_alpha_bar: Optional[float] = typer.Option(None, help="Rescale the noise schedule so that abar_T is this "
                                                       "(e.g. 1e-4: x_T is pure noise, as sampling assumes)."),
    init: Optional[Path] = typer.Option(None, help="Start a new run from this model file's weights (fine-tune); "
                                                   "its config is the run's unless options change it."),
    max_steps: int = typer.Option(100_000, help="Train until this many steps."),
    minutes: Optional[float] = typer.Option(None, help="Stop after this many minutes of wall-clock, saved."),
    crop_seconds: float = typer.Option(0.0, help="Crop length; 0 = 2x receptive field (>= 0.5 s)."),
    batch_size: int = typer.Option(8, help="Crops per step (per GPU under torchrun)."),
    save_every: int = typer.Option(500, help="Checkpoint every N steps."),
    state_mb: Optional[float] = typer.Option(None, help="Write the run state as files of at most N MB (for capped links)."),
    learning_rate: float = typer.Option(2e-4, help="Adam learning rate."),
    warmup_steps: int = typer.Option(0, help="Ramp the learning rate up over the run's first N steps "
                                            "(for --init runs, a grown model above all)."),
    loss: str = typer.Option("l1", help="Loss on epsilon: l1 or l2."),
    objective: str = typer.Option("eps", help="Space the loss is measured in: eps, v or x0."),
    seed: int = typer.Option(0, help="Seed for init, crops and noise."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    precision: str = typer.Option("auto", help="auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16."),
    device_data: bool = typer.Option(False, "--device-data", help="GPU fast path: data on the device, draws there, "
                                                                   "fused Adam, loss read every --log-every steps."),
    compile: bool = typer.Option(False, "--compile", help="Run the network through torch.compile."),
    log_every: int = typer.Option(10, help="Log row (and, with --device-data, loss read-back) every N steps."),
    levels: Optional[str] = typer.Option(None, help="Train only on noise levels LOW-HIGH (training steps t, "
                                                     "HIGH excluded), e.g. 125-175; default all of 0-T."),
) -> None:
    """Train on random crops of DATA_DIR; rerunning the same command resumes.

    Ends at --max-steps, after --minutes, or on SIGTERM: each saves the state and exits 0.
    """
    from .training.config import TrainConfig

    arch = {"sample_rate": sample_rate, "residual_channels": channels, "residual_layers": layers,
            "dilation_cycle": dilation_cycle, "parameterization": parameterization, "data_scale": data_scale,
            "mixed_levels": mixed_levels, "terminal_alpha_bar": terminal_alpha_bar,
            "spectral_prior": spectral_prior, "spectral_zero_pad": spectral_zero_pad, "spectral_block": spectral_block}
    given = {k: v for k, v in arch.items() if v is not None}
    try:
        base = ModelConfig()
        if init is not None and given:
            base = load_model(init).config  # options change the init model's config, not the default's
        config = dataclasses.replace(base, **given) if given else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    cfg = TrainConfig(batch_size=batch_size, crop_seconds=crop_seconds, learning_rate=learning_rate, loss=loss,
                      objective=objective, max_steps=max_steps, save_every=save_every, seed=seed,
                      init=str(init) if init is not None else "", mixed_fraction=mixed_fraction,
                      device_data=device_data, log_every=log_every, warmup_steps=warmup_steps,
                      **_level_range(levels))
    with _StopCondition(minutes) as stop:
        _train_until_stopped(data_dir, out, config, cfg, device, precision, stop, max_steps, state_mb, compile)


def _level_range(text: Optional[str]) -> dict:
    """``--levels LOW-HIGH`` as TrainConfig fields; one-line UserError when it is not two integers."""
    if text is None:
        return {}
    low, sep, high = text.partition("-")
    if sep and low.strip().isdigit() and high.strip().isdigit():
        return {"level_low": int(low), "level_high": int(high)}
    raise UserError(f"--levels must be LOW-HIGH, two integers such as 125-175; got {text!r}")


def _train_until_stopped(data_dir: Path, out: Path, config: Optional[ModelConfig], cfg, device: str, precision: str,
                         stop: "_StopCondition", max_steps: int, state_mb: Optional[float], compile: bool = False) -> None:
    from .training.distributed import finish_distributed, init_distributed

    dev, rank = init_distributed(resolve_device(device))
    _train_rank(data_dir, out, config, cfg, dev, rank, precision, stop, max_steps, state_mb, compile)
    finish_distributed()  # not on an error: torchrun stops the other ranks, which may be inside a collective


def _train_rank(data_dir: Path, out: Path, config: Optional[ModelConfig], cfg, dev, rank: int, precision: str,
                stop: "_StopCondition", max_steps: int, state_mb: Optional[float], compile: bool) -> None:
    from .training.loop import train

    if rank != 0:
        train(data_dir, out, config, cfg, dev, precision=precision, should_stop=stop, state_mb=state_mb, compile=compile)
        return
    console = Console()
    with Progress(TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("train", total=max_steps, info="loading data")

        slow = emulated_bf16_warning(precision, dev)

        def on_step(step: int, loss_value: float, rate: float) -> None:
            nonlocal slow
            if slow:  # at the first step, once the data and any resume have been checked
                warn(slow)
                slow = None
            bar.update(task, completed=step, info=f"loss {loss_value:.4f}  {rate:.2f} steps/s")
            if not console.is_terminal and step % 50 == 0:  # logs and pipes get plain lines
                print(f"step {step}/{max_steps} loss {loss_value:.4f} {rate:.2f} steps/s", flush=True)

        state = train(data_dir, out, config, cfg, dev, on_step=on_step, precision=precision, should_stop=stop,
                      state_mb=state_mb, compile=compile)
    why = "reached --max-steps" if state.step >= max_steps else ("stopped by SIGTERM" if stop.signalled else "time budget spent")
    print(f"done: step {state.step} ({why}, {time.monotonic() - stop.started:.0f} s); "
          f"state in {out / 'state.safetensors'}, log in {out / 'log.csv'}")


class _StopCondition:
    """True once ``minutes`` of wall-clock have passed or SIGTERM arrived.

    As a context manager it catches SIGTERM for the length of the run (so that a queue's or a
    spot instance's stop saves the state) and puts the previous handler back afterwards.
    """

    def __init__(self, minutes: Optional[float]):
        if minutes is not None and not (minutes > 0 and math.isfinite(minutes)):
            raise UserError(f"--minutes must be a positive number, got {minutes}")
        self.started = time.monotonic()
        self.deadline = None if minutes is None else self.started + 60.0 * minutes
        self.signalled = False
        self._previous = None

    def __enter__(self) -> "_StopCondition":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_term)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    def _on_term(self, signum, frame) -> None:
        self.signalled = True

    def __call__(self) -> bool:
        return self.signalled or (self.deadline is not None and time.monotonic() >= self.deadline)



@app.command("export")
def export_cmd(
    run_dir: Path = typer.Argument(..., help="Run folder written by 'diffwave train'."),
    out: Path = typer.Option(..., "--out", help="Output .safetensors file (weights + config)."),
    force: bool = typer.Option(False, help="Overwrite an existing output file."),
    raw: bool = typer.Option(False, "--raw", help="The optimiser's current weights instead of the EMA (for runs "
                             "too short for the EMA to forget its start: 0.999^N of it remains after N steps)."),
) -> None:
    """Write a run's EMA weights (or, with --raw, its current weights) as an inference model."""
    from .training.state import export

    check_output(out, force)
    model = export(run_dir, out, replace=force, weights="raw" if raw else "ema")
    print(f"wrote {out} ({sum(p.numel() for p in model.parameters())} parameters)")


@app.command("grow")
def grow_cmd(
    model: Path = typer.Argument(..., help="Model file to grow (safetensors or reference checkpoint)."),
    out: Path = typer.Option(..., "--out", help="Output .safetensors file of the grown model."),
    channels: Optional[int] = typer.Option(None, help="Residual channels of the grown model (default and minimum: "
                                                      "the model's)."),
    layers: Optional[int] = typer.Option(None, help="Residual layers of the grown model (default and minimum: the "
                                                    "model's); new layers continue the dilation cycle and widen "
                                                    "the receptive field."),
    spectral_prior: bool = typer.Option(False, "--spectral-prior", help="Also add the spectral prior: the output "
                                        "becomes a learned correction to spectral subtraction over the whole "
                                        "window (starts at 0, so the grown model is the prior until trained)."),
    spectral_zero_pad: bool = typer.Option(False, "--spectral-zero-pad", help="Zero-pad the spectral prior's FFT "
                                           "(the model's, or the one added), so its filter does not wrap the "
                                           "window's end onto its start; the weights are kept."),
    spectral_block: int = typer.Option(0, "--spectral-block", help="Run the spectral prior (the model's, or the "
                                       "one added) per STFT block of N samples (hop N/4), so it follows a note's "
                                       "decay; 0 keeps the whole window. The weights are kept."),
    seed: int = typer.Option(0, help="Seed for the new units' initial weights."),
    force: bool = typer.Option(False, help="Overwrite an existing output file."),
) -> None:
    """Widen and deepen a trained model without changing what it computes; train on with --init."""
    from .checkpoint import read_metadata, save_model
    from .growth import add_spectral_prior, change_prior, grow

    check_output(out, force)
    small = load_model(model)
    channels = small.config.residual_channels if channels is None else channels
    layers = small.config.residual_layers if layers is None else layers
    big = grow(small, channels, layers, torch.Generator().manual_seed(seed))
    if spectral_prior:
        big = add_spectral_prior(big)
    if spectral_zero_pad or spectral_block:
        # a block filter replaces a padded whole-window one (the two exclude each other)
        big = change_prior(big, spectral_zero_pad=spectral_zero_pad or (big.config.spectral_zero_pad and not spectral_block),
                           spectral_block=spectral_block or big.config.spectral_block)
    try:
        steps = read_metadata(model).get("training_steps")
    except UserError:  # a reference checkpoint: no metadata to carry
        steps = None
    extra = {"grown_from": f"{model.name}: C{small.config.residual_channels}/L{small.config.residual_layers}"
                           + (", spectral prior added" if spectral_prior else "")
                           + (", prior zero-padded" if spectral_zero_pad else "")
                           + (f", prior per {spectral_block}-sample block" if spectral_block else "")}
    save_model(out, big, extra={**extra, **({"training_steps": steps} if steps else {})}, replace=force)
    rate = small.config.sample_rate
    reach, reached = ("the whole window (spectral prior)" if m.config.spectral_prior else f"{m.receptive_field / rate:.2f} s"
                      for m in (big, small))
    print(f"wrote {out}: C{channels}/L{layers}, {sum(p.numel() for p in big.parameters())} parameters "
          f"(from {sum(p.numel() for p in small.parameters())}), receptive field {reach} (from {reached})")


@app.command("sample")
def sample_cmd(
    out: Path = typer.Option(..., "--out", help="Output audio file (.wav or .flac)."),
    model: Optional[Path] = typer.Option(None, help="Model file; default: the bundled piano model."),
    seconds: float = typer.Option(5.0, help="Length of each sample."),
    steps: Optional[int] = typer.Option(None, help="Reverse steps (fast schedule); default: all T."),
    seed: int = typer.Option(0, help="Random seed."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    force: bool = typer.Option(False, help="Overwrite an existing output file."),
) -> None:
    """Generate audio unconditionally."""
    duration_ok(seconds, limit=600.0)
    check_audio_output(out, force)
    dev = resolve_device(device)
    net = load_model(model or default_model_path(), dev)
    duration_ok(seconds, limit=600.0, rate=net.config.sample_rate)
    schedule = make_schedule(net.config, _check_steps(steps, net.config))
    length = int(round(seconds * net.config.sample_rate))
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(1, length, generator=gen).to(dev)
    with Progress(TextColumn("[bold]sample"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TimeRemainingColumn()) as bar:
        task = bar.add_task("sample", total=len(schedule))
        audio = generate(net, noise, schedule, _device_generator(gen, dev), callback=lambda _: bar.advance(task))
    audio = audio[0].float().cpu().numpy() / net.config.data_scale
    write_audio(out, np.clip(audio, -1.0, 1.0), net.config.sample_rate, "PCM_16", replace=force)
    print(f"wrote {out}")


def _check_steps(steps: Optional[int], config: ModelConfig) -> Optional[int]:
    if steps is not None and not 1 <= steps <= config.num_steps:
        raise UserError(f"--steps must be between 1 and {config.num_steps}, got {steps}")
    return steps


def _device_generator(gen: torch.Generator, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from ``gen`` (CPU generators cannot feed CUDA randn)."""
    if device.type == "cpu":
        return gen
    seed = int(torch.randint(0, 2**62, (1,), generator=gen))
    return torch.Generator(device=device).manual_seed(seed)


@app.command("corpus")
def corpus_cmd(
    out_dir: Path = typer.Argument(..., help="Output folder for rendered FLAC, manifest.csv and splits."),
    hours: float = typer.Option(10.0, help="Target hours of training audio."),
    sample_rate: int = typer.Option(16000, help="Render rate."),
    seed: int = typer.Option(0, help="Seed for tempo/velocity/transposition choices."),
    limit: Optional[int] = typer.Option(None, help="Render at most N pieces (for quick tests)."),
    jobs: int = typer.Option(2, help="Parallel render processes."),
) -> None:
    """Render music21's corpus to piano audio with FluidSynth (offline)."""
    from .training.corpus import build_corpus

    build_corpus(out_dir, hours=hours, sample_rate=sample_rate, seed=seed, limit=limit, jobs=jobs)


@app.command("shards")
def shards_cmd(
    data_dir: Path = typer.Argument(..., help="Folder of audio files (any format, rate, channels)."),
    out_dir: Path = typer.Argument(..., help="Output folder for shard-NNNNN.ogg and shards.json."),
    shard_mb: float = typer.Option(48.0, help="Largest shard in MB (MiB)."),
    sample_rate: int = typer.Option(16000, help="Rate of the packed audio (the model's rate)."),
    quality: float = typer.Option(0.0, help="Vorbis compression level, 0 (best) to 1 (smallest)."),
    data_scale: float = typer.Option(1.0, help="The model's data_scale, to report the coding error at its level."),
) -> None:
    """Pack training audio into compact Ogg Vorbis shards that 'diffwave train' reads directly."""
    from .schedule import training_betas
    from .training.shards import pack_folder

    smallest = float(training_betas(ModelConfig()).min()) ** 0.5
    m = pack_folder(data_dir, out_dir, sample_rate, shard_mb=shard_mb, quality=quality, smallest_noise=smallest,
                    data_scale=data_scale, progress=print)
    print(f"packed {m['hours']:.2f} h into {len(m['shards'])} shards, {m['megabytes']:.1f} MB "
          f"({m['megabytes'] * 2**20 / (m['hours'] * 3600) / 1000:.1f} KB/s); coding error RMS {m['codec_error_rms']:.4f}"
          f" = {m['error_over_smallest_noise']:.2f} x the smallest training noise ({smallest:.3f}) at data_scale {data_scale:g}")


def main() -> None:
    retain_freed_memory()  # training and sampling reallocate large activations every step
    sys.exit(run_app(app, prog="diffwave"))
