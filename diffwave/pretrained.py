"""Where the bundled default model lives (inside the package, no downloads)."""

from __future__ import annotations

from pathlib import Path

from .io.errors import UserError

DEFAULT_MODEL = Path(__file__).parent / "assets" / "piano-default.safetensors"


def default_model_path() -> Path:
    if not DEFAULT_MODEL.exists():
        raise UserError("no bundled model is installed; pass --model PATH (a .safetensors from 'diffwave export')")
    return DEFAULT_MODEL
