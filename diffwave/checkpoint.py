"""Model files: our safetensors format, and safe import of reference DiffWave checkpoints.

Our format: a safetensors file of the inference weights with metadata
``{"format": "diffwave-extend/1", "config": ModelConfig JSON}``. Loading never unpickles.
Reference files (lmnt-com/diffwave ``weights-*.pt``: a dict with ``model`` and ``params``)
are read with ``torch.load(weights_only=True)``; their ``params`` (an ``AttrDict``) is mapped
to a plain dict, and anything else that would need code to unpickle is refused.
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import ModelConfig
from .io.errors import UserError, require_file
from .io.outputs import atomic_path
from .model import DiffWave

FORMAT = "diffwave-extend/1"
SAFETENSORS_HEADER_LIMIT = 100_000_000


class _ReferenceAttrDict:
    """Stand-in for the reference ``diffwave.params.AttrDict``: builds a plain OrderedDict.

    The weights-only unpickler fills dict items only into dict/OrderedDict instances, so the
    allow-listed name constructs an OrderedDict; no code from the file is run.
    """

    def __new__(cls, *args):
        return OrderedDict()


_ReferenceAttrDict.__module__ = "diffwave.params"
_ReferenceAttrDict.__qualname__ = _ReferenceAttrDict.__name__ = "AttrDict"


WEIGHT_DTYPES = {torch.float32, torch.float16, torch.bfloat16, torch.float64}


def check_weights(config: ModelConfig, shapes: dict[str, tuple[int, ...]], dtypes: dict[str, torch.dtype]) -> None:
    """Raise UserError naming the first missing, unexpected, wrongly shaped or non-float weight.

    Works from names, shapes and dtypes alone (a file header), before any tensor is read or
    any network is built.
    """
    expected = DiffWave.weight_shapes(config)
    for key, shape in expected.items():
        if key not in shapes:
            raise UserError(f"model file is missing weight {key!r}")
        if tuple(shapes[key]) != shape:
            raise UserError(f"weight {key!r} has shape {tuple(shapes[key])}, expected {shape}")
        if dtypes[key] not in WEIGHT_DTYPES:
            raise UserError(f"weight {key!r} has dtype {dtypes[key]}, expected a float type")
    for key in shapes:
        if key not in expected:
            raise UserError(f"model file has unexpected weight {key!r}")


def build_model(config: ModelConfig, state: dict[str, torch.Tensor]) -> DiffWave:
    """A network from checked weights: names, shapes and dtypes first, then finiteness."""
    check_weights(config, {k: tuple(v.shape) for k, v in state.items()}, {k: v.dtype for k, v in state.items()})
    for key, value in state.items():
        if not bool(torch.isfinite(value).all()):
            raise UserError(f"weight {key!r} holds NaN or infinite values; the model file is broken")
    with torch.random.fork_rng(devices=[]):  # the init draws are overwritten; the caller's RNG stays as it was
        model = DiffWave(config)
    model.load_state_dict(state, strict=True)
    return model.eval()


def save_model(path: str | os.PathLike, model: DiffWave, extra: dict[str, str] | None = None,
               replace: bool = True) -> None:
    """Write weights + config as safetensors, atomically (temp file then rename); ``replace``
    False never overwrites an existing file."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": model.config.to_json(), **(extra or {})}
    with atomic_path(path, replace) as tmp:
        save_file(state, str(tmp), metadata=metadata)


def _is_safetensors(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    size = int.from_bytes(head[:8], "little")
    return 0 < size < SAFETENSORS_HEADER_LIMIT and head[8:9] == b"{"


def _read_header(path: Path) -> tuple[ModelConfig, dict[str, str], dict[str, tuple[int, ...]], dict[str, torch.dtype]]:
    """Config, metadata, and each tensor's shape and dtype, from the safetensors header only."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            slices = {k: f.get_slice(k) for k in f.keys()}
            shapes = {k: tuple(s.get_shape()) for k, s in slices.items()}
            dtypes = {k: _DTYPES.get(s.get_dtype(), torch.uint8) for k, s in slices.items()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable safetensors model ({exc})") from None
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise UserError(f"{path}: safetensors file has no diffwave-extend config metadata")
    try:
        config = ModelConfig.from_json(metadata["config"])
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: bad model config in metadata ({exc})") from None
    return config, metadata, shapes, dtypes


_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def _load_safetensors(path: Path) -> tuple[ModelConfig, dict[str, torch.Tensor], dict[str, str]]:
    config, metadata, shapes, dtypes = _read_header(path)
    try:
        check_weights(config, shapes, dtypes)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable safetensors model ({exc})") from None
    return config, state, metadata


def _config_from_reference(params: dict, state: dict[str, torch.Tensor]) -> ModelConfig:
    layers = len({k.split(".")[1] for k in state if k.startswith("residual_layers.")})
    schedule = list(params.get("noise_schedule", []))
    if len(schedule) < 2:
        raise UserError("reference checkpoint params have no noise_schedule")
    linear = torch.linspace(schedule[0], schedule[-1], len(schedule), dtype=torch.float64)
    if not torch.allclose(linear, torch.tensor(schedule, dtype=torch.float64), rtol=1e-6, atol=1e-9):
        raise UserError("reference checkpoint noise_schedule is not linear; it cannot be represented")
    try:
        return ModelConfig(
            sample_rate=int(params.get("sample_rate", 22050)),
            residual_channels=int(state["input_projection.weight"].shape[0]),
            residual_layers=layers,
            dilation_cycle=int(params.get("dilation_cycle_length", 10)),
            num_steps=len(schedule),
            beta_start=float(schedule[0]),
            beta_end=float(schedule[-1]),
        )
    except (ValueError, TypeError) as exc:
        raise UserError(f"reference checkpoint params are out of range ({exc})") from None


def import_reference(path: str | os.PathLike) -> DiffWave:
    """Load an lmnt-com/diffwave checkpoint dict safely (weights_only) into our model."""
    path = Path(path)
    try:
        with torch.serialization.safe_globals([_ReferenceAttrDict]):
            blob = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise UserError(f"{path}: refused to load, the file needs code to unpickle ({first})") from None
    except (RuntimeError, EOFError, OSError, ValueError, SafetensorError) as exc:
        raise UserError(f"{path}: not a model file ({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(blob, dict) or not isinstance(blob.get("model"), dict):
        raise UserError(f"{path}: not a DiffWave checkpoint (expected a dict with a 'model' state_dict)")
    state = blob["model"]
    if any(k.startswith(("conditioner", "spectrogram_upsampler")) or ".conditioner_projection." in k for k in state):
        raise UserError(f"{path}: this is a conditional (vocoder) DiffWave; only unconditional models work here")
    if "input_projection.weight" not in state:
        raise UserError(f"{path}: model file is missing weight 'input_projection.weight'")
    params = blob.get("params") or {}
    if not isinstance(params, dict):
        raise UserError(f"{path}: checkpoint 'params' is not a dictionary")
    return build_model(_config_from_reference(params, state), state)


def _is_torch_archive(path: Path) -> bool:
    """torch.save output: a zip archive, or a legacy pickle (protocol 2+ starts with 0x80)."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head == b"PK\x03\x04" or head[:1] == b"\x80"


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> DiffWave:
    """Load our safetensors model or a reference checkpoint; errors are one-line UserErrors.

    Everything is checked before a network is built: the config against
    :data:`diffwave.config.LIMITS`, the weights' names, shapes and dtypes against the config
    (from the file header, for safetensors), and every weight for NaN and infinity.
    """
    path = Path(path)
    require_file(path, "model file")
    if _is_safetensors(path):
        config, state, _ = _load_safetensors(path)
        model = build_model(config, state)
    elif _is_torch_archive(path):
        model = import_reference(path)
    else:
        raise UserError(f"{path}: not a model file (neither safetensors nor a PyTorch checkpoint)")
    return model.to(device)


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Metadata of one of our safetensors model files (config JSON and training notes)."""
    return _read_header(Path(path))[1]

