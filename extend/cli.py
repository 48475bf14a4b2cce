"""``extend INPUT --seconds S --sampler NAME``: continue an audio file (option parsing and a
progress bar around :func:`extend.files.extend_file`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import soundfile as sf
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from diffwave.io.cli_util import run_app, warn
from diffwave.io.errors import UserError
from diffwave.runtime.allocator import retain_freed_memory
from diffwave.runtime.devices import resolve_device
from diffwave.runtime.precision import emulated_bf16_warning

from .api import (
    DEFAULT_CONTEXT,
    DEFAULT_GUIDE,
    DEFAULT_NEW,
    DEFAULT_PRECISION,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
    DEFAULT_STRENGTH,
    MAX_SECONDS,
)
from .files import extend_file
from .samplers import SAMPLERS

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def extend(
    input: Path = typer.Argument(..., help="Audio file to continue (any format soundfile reads, any rate/channels)."),
    seconds: Optional[float] = typer.Option(None, "--seconds", "-s", help=f"Seconds of new audio, up to {MAX_SECONDS:g}."),
    gap: Optional[list[str]] = typer.Option(None, "--gap", help="Fill START-END seconds instead of extending, e.g. 12.30-12.80 (repeatable)."),
    candidates: int = typer.Option(1, "--candidates", help="Write K continuations from one batched run, best seam first: <out>_1 ... <out>_K. "
                                                            "With --guide match each starts on another passage."),
    loop: Optional[float] = typer.Option(None, "--loop", help="Make INPUT loop seamlessly: inpaint this many seconds across its wrap (e.g. 0.25)."),
    sampler: str = typer.Option(DEFAULT_SAMPLER, help=f"Inpainting sampler: {', '.join(sorted(SAMPLERS))} (forcing needs a model trained with --mixed-levels)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output file (default: <input stem>_extended.wav beside the input)."),
    model: Optional[Path] = typer.Option(None, help="Model file (.safetensors or reference .pt) (default: the bundled piano model)."),
    steps: Optional[int] = typer.Option(None, help=f"Reverse steps per frame, respaced (default {DEFAULT_STEPS}); the model's T for the full schedule."),
    fast_schedule: Optional[str] = typer.Option(None, help="Explicit noise schedule instead of --steps: comma-separated betas, e.g. 1e-4,1e-3,0.01,0.05,0.2,0.5."),
    context: float = typer.Option(DEFAULT_CONTEXT, help="Seconds of known audio each frame keeps."),
    new: float = typer.Option(DEFAULT_NEW, help="Seconds generated per frame."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same output."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    precision: str = typer.Option(DEFAULT_PRECISION, help="auto (bf16 on CUDA, fp32 on CPU), fp32 or bf16 (faster on CPUs with bf16 units)."),
    jump_length: Optional[int] = typer.Option(None, help="repaint: jump length j (default 10, or steps // 5 when smaller)."),
    resample: Optional[int] = typer.Option(None, help="repaint: resample count r (default 10)."),
    eta: Optional[float] = typer.Option(None, help="ddim: 0 deterministic (default) to 1 (DDPM's variance)."),
    weight: Optional[float] = typer.Option(None, help="guidance: reconstruction-guidance weight w (default 2)."),
    guide: str = typer.Option(DEFAULT_GUIDE, help="Start each frame's new audio from a guess: none; lpc (linear prediction of the context); match (what followed the most similar passage of the input)."),
    strength: Optional[float] = typer.Option(None, help=f"With a guide: the fraction of the steps that run, from the guess noised to that level (default {DEFAULT_STRENGTH:g})."),
    only_new: bool = typer.Option(False, "--only-new", help="Write only the generated audio."),
    crop: bool = typer.Option(True, "--crop/--no-crop", help="Crop frames to a few receptive fields before the seam."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Continue INPUT by SECONDS of generated piano, fill --gap START-END, or make it --loop; your audio is kept bit-exact."""
    gaps = None if not gap else [_parse_gap(g) for g in gap]
    if steps is not None and fast_schedule is not None:
        raise UserError("give --steps or --fast-schedule, not both")
    betas = None if fast_schedule is None else _parse_betas(fast_schedule)
    given = {"jump_length": jump_length, "resample": resample, "eta": eta, "weight": weight}
    knobs = {k: v for k, v in given.items() if v is not None}  # the sampler owns its defaults
    knobs.update(guide=guide, strength=strength)  # strength None: the engine's default for the guide
    console = Console(stderr=True)
    bar = Progress(TextColumn(f"[bold]{sampler}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console)
    task = bar.add_task("extend", total=None)  # the engine reports the frame count per frame

    def on_frame(index: int, count: int | None, chunk) -> None:
        if index == 0:
            slow = emulated_bf16_warning(precision, resolve_device(device))
            if slow:
                warn(slow)
            bar.start()  # only once every check has passed: a refused request prints one line
        bar.update(task, completed=index + 1, total=count)
        if not console.is_terminal:
            print(f"frame {index + 1}/{count}", file=sys.stderr, flush=True)

    try:
        target = extend_file(input, seconds, out=out, model=model, device=device, force=force, only_new=only_new,
                             on_frame=on_frame, warn=warn, gaps=gaps, loop=loop, candidates=candidates, sampler=sampler,
                             steps=DEFAULT_STEPS if steps is None else steps, context=context, new=new, seed=seed,
                             crop=crop, precision=precision, betas=betas, **knobs)
    finally:
        bar.stop()
    for path in target if isinstance(target, list) else [target]:
        info = sf.info(str(path))
        print(f"wrote {path} ({info.frames / info.samplerate:.2f} s, {info.samplerate} Hz, "
              f"{info.channels} ch{', new audio only' if only_new else ''})")


def _parse_gap(text: str) -> tuple[float, float]:
    parts = text.split("-")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise UserError(f"--gap must be START-END in seconds, e.g. 12.30-12.80, got {text!r}") from None


def _parse_betas(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--fast-schedule must be comma-separated numbers, got {text!r}") from None


def main() -> None:
    retain_freed_memory()  # every frame reallocates large activations; 1.45x faster on this CPU
    sys.exit(run_app(app, prog="extend"))
