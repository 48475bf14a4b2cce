"""Helpers shared by the benchmark scripts: model choice, clips, timing, Markdown."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from diffwave.checkpoint import load_model
from diffwave.config import ModelConfig
from diffwave.io.audio import load_mono
from diffwave.io.errors import UserError
from diffwave.model import DiffWave
from diffwave.pretrained import default_model_path

CLIPS = Path(__file__).resolve().parents[1] / "extend" / "examples"
TINY = ModelConfig(sample_rate=16000, residual_channels=4, residual_layers=4, dilation_cycle=2)


def run_script(main) -> None:
    """A benchmark's entry point: bad input (a missing model, clash of settings) is one
    ``error:`` line and exit status 1, not a traceback.

    Process-wide settings belong here, not in library code: the Agg backend for figures, and
    glibc keeping freed activation buffers (:mod:`diffwave.runtime.allocator`), as the CLIs do.
    """
    import matplotlib

    from diffwave.runtime.allocator import retain_freed_memory

    matplotlib.use("Agg")
    retain_freed_memory()
    try:
        main()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


def pick_model(path: str | None, tiny: bool) -> DiffWave:
    """The given model, the bundled one, or (``tiny``) a random 4-channel net for smoke runs."""
    if tiny:
        with torch.random.fork_rng():  # a fixed tiny net, without reseeding the caller's RNG
            torch.manual_seed(0)
            model = DiffWave(TINY)
            torch.nn.init.normal_(model.output_projection.weight, std=0.05)
        return model.eval()
    return load_model(path or default_model_path()).eval()


def pick_models(spec: str) -> dict[str, DiffWave]:
    """Models by label from a comma-separated list such as ``bundled,run=a.safetensors,b.safetensors``.

    Each item is ``bundled``, ``tiny`` (see :func:`pick_model`) or a model file, optionally
    prefixed ``LABEL=``; the label defaults to the keyword or the file's stem. All are loaded
    up front, so a bad path fails before any long measurement starts.
    """
    models: dict[str, DiffWave] = {}
    for item in (i.strip() for i in spec.split(",")):
        if not item:
            continue
        label, _, path = item.rpartition("=")
        keyword = path in ("bundled", "tiny")
        label = label or (path if keyword else Path(path).stem)
        if label in models:
            raise UserError(f"--models: the label {label!r} is given twice; name them LABEL=PATH")
        models[label] = pick_model(None if keyword else path, path == "tiny")
    if not models:
        raise UserError("--models: no model given (use bundled, tiny or model files)")
    return models


def clips(folder: str | Path | None, rate: int, limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    paths = sorted(Path(folder or CLIPS).glob("*.flac"))[: limit or None]
    return [(p.stem, load_mono(p, rate)) for p in paths]


class CallCounter:
    """Counts forward passes of a module through a hook."""

    def __init__(self, model: torch.nn.Module):
        self.calls = 0
        self.handle = model.register_forward_hook(self._hook)

    def _hook(self, *_):
        self.calls += 1

    def close(self) -> None:
        self.handle.remove()


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def machine() -> str:
    """Where a figure was measured: architecture, CPU, its bf16 arithmetic, threads, torch."""
    from diffwave.runtime.precision import cpu_bf16

    capabilities = getattr(torch.cpu, "get_capabilities", None)
    name = capabilities().get("cpu_name", "") if capabilities is not None else ""
    cpu = ", ".join(x for x in (name, f"bf16 {cpu_bf16()}") if x)
    return f"{platform.machine()} ({cpu}), {torch.get_num_threads()} torch threads, torch {torch.__version__}"


def table(rows: list[dict], columns: list[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "".join("| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |\n" for r in rows)
    return head + body


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def replace_section(path: Path, name: str, body: str) -> None:
    """Put ``body`` between the ``<!-- name:start -->`` and ``<!-- name:end -->`` lines of a
    markdown file, keeping the prose around them; the markers are appended if absent."""
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else ""
    if start not in text or end not in text:
        text += f"{start}{end}\n"
    head, rest = text.split(start, 1)
    path.write_text(head + start + body + "\n" + rest[rest.index(end):])


def read_json(path: Path) -> dict:
    """A benchmark's saved result; a missing or unreadable file is a :class:`UserError`."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a saved benchmark result")
    return data


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")


def add_engine_args(p: argparse.ArgumentParser) -> None:
    """Options every benchmark shares: which model, and the engine's settings."""
    p.add_argument("--model", default=None, help="model file [bundled piano model]")
    p.add_argument("--tiny", action="store_true", help="random tiny model (smoke test)")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--context", type=float, default=4.0)
    p.add_argument("--new", type=float, default=1.0)
