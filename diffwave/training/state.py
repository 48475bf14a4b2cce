"""A run's state in memory: build, save, load, and export its EMA weights as a model.

On disk it is :mod:`diffwave.training.statefile`: weights, EMA weights, Adam moments, step and
the configs as JSON metadata; nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..checkpoint import load_model, read_metadata, save_model
from ..config import ModelConfig
from ..io.errors import UserError
from ..model import DiffWave
from .config import TrainConfig
from .statefile import RUN_FILES, STATE_FORMAT, read_state, split, write_state


@dataclass
class RunState:
    model: DiffWave
    ema: DiffWave
    optimizer: torch.optim.Optimizer
    step: int
    init_steps: int = 0  # training steps of the --init model this run started from (0: none, or unrecorded)


def save_state(run_dir: Path, state: RunState, config: ModelConfig, train: TrainConfig,
               part_mb: float | None = None) -> None:
    """Write the full run state (weights, EMA, Adam moments, step) atomically (:mod:`diffwave.runstate`)."""
    tensors = {f"model/{k}": v.detach().cpu().contiguous() for k, v in state.model.state_dict().items()}
    tensors.update({f"ema/{k}": v.detach().cpu().contiguous() for k, v in state.ema.state_dict().items()})
    opt = state.optimizer.state_dict()
    for idx, slot in opt["state"].items():
        for name, value in slot.items():
            tensors[f"opt/{idx}/{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    metadata = {
        "format": STATE_FORMAT,
        "config": config.to_json(),
        "train": json.dumps(dataclasses.asdict(train)),
        "step": str(state.step),
        "init_steps": str(state.init_steps),
        "param_groups": json.dumps(opt["param_groups"]),
    }
    write_state(run_dir, tensors, metadata, part_mb)


def new_state(config: ModelConfig, train: TrainConfig, device: torch.device) -> RunState:
    with torch.random.fork_rng(devices=[]):  # init from the seed; the caller's RNG is left as it was
        torch.manual_seed(train.seed)  # weight init only; training randomness is counter-based
        model = DiffWave(config)
        ema = DiffWave(config)  # its random init is overwritten below, but draws all the same
    model, ema = model.to(device), ema.to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=train.learning_rate, fused=train.device_data or None)
    return RunState(model, ema, optimizer, 0)


def load_state(run_dir: Path, device: torch.device) -> tuple[RunState, ModelConfig, TrainConfig]:
    tensors, meta = read_state(run_dir)
    config = ModelConfig.from_json(meta["config"])
    train = TrainConfig(**json.loads(meta["train"]))
    state = new_state(config, train, device)
    state.model.load_state_dict(split(tensors, "model/"))
    state.ema.load_state_dict(split(tensors, "ema/"))
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in split(tensors, "opt/").items():
        idx, name = key.split("/")
        slots.setdefault(int(idx), {})[name] = value
    state.optimizer.load_state_dict({"state": slots, "param_groups": json.loads(meta["param_groups"])})
    state.step = int(meta["step"])
    state.init_steps = int(meta.get("init_steps", "0"))  # states before 2026-12-07 did not record it
    return state, config, train


# Config fields a fine-tune may change: they change what the network is trained on (level maps,
# the noise schedule's top, the audio's rate) or the prior it corrects (the FFT's padding or block),
# not its shape or what its output means. A new rate keeps the weights as a start: the same taps
# then span twice the time at half the rate, and the run relearns what they hear.
FINE_TUNABLE = ("mixed_levels", "terminal_alpha_bar", "spectral_zero_pad", "spectral_block", "sample_rate")


def init_steps(path: str) -> int:
    """The ``training_steps`` an --init model file records (0 where it records none)."""
    try:
        return int(read_metadata(path).get("training_steps", "0"))
    except (UserError, ValueError):  # a reference checkpoint, or a count that is not a number
        return 0


def _init_model(path: str, config: ModelConfig | None) -> DiffWave:
    """The model a new run starts from; its config must be the run's, up to :data:`FINE_TUNABLE`."""
    start = load_model(path)
    if config is not None:
        keep = {name: getattr(start.config, name) for name in FINE_TUNABLE}
        want = dataclasses.asdict(dataclasses.replace(config, **keep))
        have = dataclasses.asdict(start.config)
        for name, value in want.items():
            if have[name] != value:
                raise UserError(f"--init model has {name}={have[name]!r} but the run asks for {value!r}; "
                                f"leave that option out to take the model's")
    return start


def run_model(run_dir: str | Path, weights: str = "ema") -> tuple[DiffWave, dict[str, str]]:
    """A run's ``weights`` ("ema", or "raw": the optimiser's current weights) as an inference
    model (eval mode), and the state's metadata."""
    if weights not in ("ema", "raw"):
        raise UserError(f"weights must be ema or raw, got {weights!r}")
    tensors, meta = read_state(Path(run_dir))
    model = DiffWave(ModelConfig.from_json(meta["config"]))
    model.load_state_dict(split(tensors, "ema/" if weights == "ema" else "model/"))
    return model.eval(), meta


def ema_model(run_dir: str | Path) -> tuple[DiffWave, dict[str, str]]:
    """The EMA weights of a run as an inference model (eval mode), and the state's metadata."""
    return run_model(run_dir, "ema")


def export(run_dir: str | Path, out: str | Path, replace: bool = False, weights: str = "ema") -> DiffWave:
    """Write the EMA (or ``weights="raw"``) weights of a run as an inference model
    (safetensors); never onto the run's own files. The file records which in ``weights``, the
    run's own steps in ``run_steps``, and in ``training_steps`` those plus its --init model's."""
    run_dir, out = Path(run_dir), Path(out)
    if out.name in RUN_FILES and out.resolve().parent == run_dir.resolve():
        raise UserError(f"refusing to export onto the run's own {out.name}: choose another --out")
    model, meta = run_model(run_dir, weights)
    total = int(meta["step"]) + int(meta.get("init_steps", "0"))
    save_model(out, model, extra={"training_steps": str(total), "run_steps": meta["step"], "train": meta["train"],
                                  "weights": weights}, replace=replace)
    return model
