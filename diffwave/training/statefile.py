"""A training run's state on disk: one safetensors file, or an index and parts of at most N MB.

``RUN_DIR/state.safetensors`` holds the run's metadata (format, configs as JSON, step, Adam
param groups) and, by default, every tensor. With ``part_mb`` the tensors go to
``state.partKKKofNNN.stepS.safetensors`` files of at most that size, for copying over links
that cap a file's size, and the index lists them. The parts of a save are written first; the
index is replaced last, atomically, and only then are the previous save's parts deleted, so a
kill at any moment leaves a complete state. Nothing is pickled.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..io.errors import UserError
from ..io.outputs import atomic_path, temp_prefix

STATE_FILE = "state.safetensors"
STATE_FORMAT = "diffwave-extend-train/1"
RUN_FILES = (STATE_FILE, "log.csv", "loss.png")
PART_GLOB = "state.part*.safetensors"


def _groups(tensors: dict[str, torch.Tensor], max_bytes: float) -> list[dict[str, torch.Tensor]]:
    """Tensors in key order, packed greedily into groups of at most ``max_bytes``."""
    groups: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key, value in tensors.items():
        n = value.numel() * value.element_size()
        if n > max_bytes:
            raise UserError(f"--state-mb {max_bytes / 2**20:g} is smaller than tensor {key!r} ({n / 2**20:.2f} MB)")
        if size + n > max_bytes and groups[-1]:
            groups.append({})
            size = 0
        groups[-1][key] = value
        size += n
    return groups


def write_state(run_dir: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str],
                part_mb: float | None = None) -> list[Path]:
    """Write a state atomically (module doc); returns the files written, index last."""
    index = run_dir / STATE_FILE
    if part_mb is None:
        with atomic_path(index) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)
        _remove_parts(run_dir, keep=set())
        return [index]
    groups = _groups(tensors, part_mb * 2**20)
    names = [f"state.part{k + 1:03d}of{len(groups):03d}.step{metadata['step']}.safetensors" for k in range(len(groups))]
    for name, group in zip(names, groups):
        with atomic_path(run_dir / name) as tmp:
            save_file(group, str(tmp))
    with atomic_path(index) as tmp:
        save_file({}, str(tmp), metadata={**metadata, "parts": json.dumps(names)})
    _remove_parts(run_dir, keep=set(names))
    return [run_dir / n for n in names] + [index]


def _remove_parts(run_dir: Path, keep: set[str]) -> None:
    for p in run_dir.glob(PART_GLOB):
        if p.name not in keep:
            p.unlink(missing_ok=True)


def _load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path} is damaged or truncated ({exc}); restore it from a copy, "
                        "or start again in a new --out folder") from None


def read_state(run_dir: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors of a run's state (index and parts) and its metadata; one-line errors."""
    path = run_dir / STATE_FILE
    if not path.exists():
        raise UserError(f"no training state in {run_dir} (expected {STATE_FILE})")
    tensors, metadata = _load(path)
    if metadata.get("format") != STATE_FORMAT:
        raise UserError(f"{path} is not a diffwave training state")
    for name in json.loads(metadata.pop("parts", "[]")):
        part = run_dir / Path(name).name
        if not part.exists():
            raise UserError(f"{path} lists {part.name}, which is missing; copy every state.part*.safetensors file too")
        tensors.update(_load(part)[0])
    return tensors, metadata


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete temporary state files a killed save left in ``run_dir`` (ours only, by name)."""
    pattern = temp_prefix(run_dir / STATE_FILE) + "*" + Path(STATE_FILE).suffix  # .state.*.safetensors
    stale = [p for p in run_dir.glob(pattern) if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def split(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under ``prefix`` ("model/", "ema/", "opt/"), with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
