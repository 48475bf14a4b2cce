"""Resumable DiffWave training (DDPM epsilon objective, Ho et al. 2020 eq. 14, optionally reweighted).

``objective`` picks the space the loss is measured in. All three are the epsilon error
eps_hat - eps times a weight of t: "eps" 1, "v" 1/sqrt(abar) (v_hat - v), "x0" sqrt(1-abar)/sqrt(abar)
(x0_hat - x0, up to sign). v and x0 put weight on high noise levels, where the structure of a
sample is decided and an eps loss scores well even when x0_hat is nearly zero.

Run state lives in ``RUN_DIR/state.safetensors`` (weights, EMA weights, Adam moments, step,
configs as JSON metadata; nothing is pickled). Randomness is derived from (seed, step, rank),
so resuming after ``kill -9`` replays exactly the batches and noise of an uninterrupted run.
Launched under ``torchrun`` it trains with torch.distributed DDP, one process per GPU.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from .checkpoint import load_model, save_model
from .config import ModelConfig
from .data import CropSampler, step_generator
from .errors import UserError, require_own_folder
from .levels import level_maps
from .model import DiffWave
from .precision import use_bf16
from .runlog import plot_loss, truncate_after, write_rows
from .runstate import RUN_FILES, STATE_FILE, STATE_FORMAT, read_state, remove_stale_temporaries, split, write_state
from .sampling import forward_noise
from .schedule import training_schedule

OBJECTIVES = ("eps", "v", "x0")


def loss_weight(objective: str, alpha_bar: torch.Tensor) -> torch.Tensor:
    """Weight on |eps_hat - eps| that measures the error in ``objective`` space (module doc)."""
    if objective == "eps":
        return torch.ones_like(alpha_bar)
    if objective == "v":
        return alpha_bar.rsqrt()
    return ((1.0 - alpha_bar) / alpha_bar).sqrt()


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 8
    crop_seconds: float = 0.0  # 0 = twice the receptive field, at least 0.5 s
    learning_rate: float = 2e-4
    loss: str = "l1"
    objective: str = "eps"  # eps, v or x0: where the loss is measured (module doc)
    max_steps: int = 100_000
    save_every: int = 500
    log_every: int = 10
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    seed: int = 0
    init: str = ""  # model file whose weights start a new run (fine-tuning); "" = random init
    mixed_fraction: float = 0.5  # share of rows with mixed levels, for config.mixed_levels models (diffwave.levels)

    def __post_init__(self) -> None:
        if self.loss not in ("l1", "l2"):
            raise UserError(f"--loss must be l1 or l2, got {self.loss!r}")
        if self.objective not in OBJECTIVES:
            raise UserError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        for name in ("batch_size", "max_steps", "save_every", "log_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise UserError("--learning-rate must be a positive number")
        if not 0.0 <= self.mixed_fraction <= 1.0:
            raise UserError(f"--mixed-fraction must be in [0, 1], got {self.mixed_fraction}")
        if not math.isfinite(self.crop_seconds) or self.crop_seconds < 0:
            raise UserError("--crop-seconds must be a non-negative number")

    def crop_samples(self, model: DiffWave) -> int:
        if self.crop_seconds > 0:
            crop = int(round(self.crop_seconds * model.config.sample_rate))
            if crop < model.receptive_field:
                raise UserError(f"--crop-seconds gives {crop} samples, less than the receptive field ({model.receptive_field})")
            return crop
        return max(2 * model.receptive_field, model.config.sample_rate // 2)


@dataclass
class RunState:
    model: DiffWave
    ema: DiffWave
    optimizer: torch.optim.Optimizer
    step: int


def _ema_update(ema: DiffWave, model: DiffWave, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1.0 - decay)


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
    optimizer = torch.optim.Adam(model.parameters(), lr=train.learning_rate)
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
    return state, config, train


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _claim_run_dir(run_dir: Path) -> None:
    """A new run starts only in a new or empty folder: it writes log.csv and loss.png there."""
    require_own_folder(run_dir, False, "run folder (--out)", f"no training run ({STATE_FILE})")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create run folder {run_dir}: {exc.strerror or exc}") from None


def train(
    data_dir: str | Path,
    run_dir: str | Path,
    config: ModelConfig | None,
    train_cfg: TrainConfig,
    device: torch.device,
    on_step: Callable[[int, float, float], None] | None = None,
    precision: str = "auto",
    should_stop: Callable[[], bool] | None = None,
    state_mb: float | None = None,
) -> RunState:
    """Train until ``train_cfg.max_steps`` or ``should_stop()``; resume from ``run_dir`` if it holds a state.

    ``config`` None means: take it from the run directory (resume) or use the default.
    ``on_step(step, loss, steps_per_s)`` is called on rank 0 after every step.
    ``should_stop()`` is asked after every step (a time budget, a signal); when it says yes the
    state is saved and training returns. Under DDP rank 0's answer is shared with all ranks.
    ``state_mb``: write the state as parts of at most this many MB (:mod:`diffwave.runstate`).
    ``precision``: "fp32", "bf16" (autocast; weights and optimizer stay fp32) or "auto"
    (bf16 on CUDA, fp32 elsewhere). It is a runtime choice and may change on resume.
    """
    bf16 = use_bf16(precision, device)
    if state_mb is not None and not (math.isfinite(state_mb) and state_mb > 0):
        raise UserError(f"--state-mb must be a positive number of MB, got {state_mb}")
    run_dir = Path(run_dir)
    rank, world = _dist_info()
    if (run_dir / STATE_FILE).exists():
        if rank == 0:
            remove_stale_temporaries(run_dir)
        state, saved_config, saved_train = load_state(run_dir, device)
        if config is not None and config != saved_config:
            raise UserError(f"{run_dir} holds a run with a different model config; use a new --out folder")
        config = saved_config
        # Only the run length and saving cadence may change on resume; the rest must match.
        keep = dataclasses.replace(train_cfg, max_steps=saved_train.max_steps, save_every=saved_train.save_every, log_every=saved_train.log_every)
        if keep != saved_train:
            raise UserError(f"{run_dir} was started with different training options; use a new --out folder")
    else:
        start = _init_model(train_cfg.init, config) if train_cfg.init else None
        config = config or (start.config if start is not None else ModelConfig())
        if rank == 0:
            _claim_run_dir(run_dir)
        state = new_state(config, train_cfg, device)
        if start is not None:
            state.model.load_state_dict(start.state_dict())
            state.ema.load_state_dict(start.state_dict())
    elapsed_before = 0.0  # wall-clock of earlier sessions of this run, so the log is cumulative
    if rank == 0:
        previous = truncate_after(run_dir / "log.csv", state.step)
        elapsed_before = previous[-1]["elapsed_s"] if previous else 0.0

    sampler = CropSampler.from_folder(data_dir, config.sample_rate, train_cfg.crop_samples(state.model))
    abar = training_schedule(config).alpha_bars.float()
    net = state.model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(state.model, device_ids=[device.index] if device.type == "cuda" else None)

    pending: list[dict] = []
    window: list[float] = []  # losses since the last log row; rows hold their mean
    t_start = time.perf_counter()
    t_last, step_last = t_start, state.step
    while state.step < train_cfg.max_steps:
        g = step_generator(train_cfg.seed, state.step, rank)
        x0 = sampler.batch(train_cfg.batch_size, g) * config.data_scale
        t = torch.randint(0, config.num_steps, (train_cfg.batch_size,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        if config.mixed_levels:  # drawn after the ordinary draws: a plain run's randomness is unchanged
            t = level_maps(t, x0.shape[1], train_cfg.mixed_fraction, g)  # [B, L]
        a = abar[t] if t.dim() == 2 else abar[t].unsqueeze(1)  # [B, L] or [B, 1]
        xt = forward_noise(x0, a, noise).to(device)
        weight = loss_weight(train_cfg.objective, a).to(device)
        t, noise = t.to(device), noise.to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            pred = net(xt, t)
        diff = (pred.float() - noise) * weight
        loss = diff.abs().mean() if train_cfg.loss == "l1" else diff.pow(2).mean()
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise UserError(f"loss became {loss_value} at step {state.step}; stopped, the last saved checkpoint is intact (try a lower --learning-rate)")
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(state.model.parameters(), train_cfg.grad_clip)
        state.optimizer.step()
        state.step += 1
        _ema_update(state.ema, state.model, min(train_cfg.ema_decay, (1 + state.step) / (10 + state.step)))

        stop = should_stop is not None and _agree(rank == 0 and should_stop(), world, device)
        if rank != 0:
            if stop:
                break
            continue
        now = time.perf_counter()
        rate = (state.step - step_last) / max(now - t_last, 1e-9)
        if on_step is not None:
            on_step(state.step, loss_value, rate)
        window.append(loss_value)
        saving = stop or state.step % train_cfg.save_every == 0 or state.step == train_cfg.max_steps
        if saving or state.step % train_cfg.log_every == 0:
            pending.append({"step": state.step, "loss": sum(window) / len(window), "steps_per_s": round(rate, 4),
                            "elapsed_s": round(elapsed_before + now - t_start, 2)})
            t_last, step_last, window = now, state.step, []
        if saving:
            write_rows(run_dir / "log.csv", pending)
            pending = []
            save_state(run_dir, state, config, train_cfg, state_mb)
            plot_loss(run_dir / "log.csv", run_dir / "loss.png", title=f"DiffWave C{config.residual_channels}/L{config.residual_layers}")
        if stop:
            break
    return state


def _init_model(path: str, config: ModelConfig | None) -> DiffWave:
    """The model a new run starts from; its config must be the run's, up to ``mixed_levels``
    (fine-tuning an ordinary model into one that takes level maps is the point of that switch)."""
    start = load_model(path)
    if config is not None:
        want = dataclasses.asdict(dataclasses.replace(config, mixed_levels=start.config.mixed_levels))
        have = dataclasses.asdict(start.config)
        for name, value in want.items():
            if have[name] != value:
                raise UserError(f"--init model has {name}={have[name]!r} but the run asks for {value!r}; "
                                f"leave that option out to take the model's")
    return start


def _agree(flag: bool, world: int, device: torch.device) -> bool:
    """Rank 0's stop decision, shared with every rank so that all stop after the same step."""
    if world == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def ema_model(run_dir: str | Path) -> tuple[DiffWave, dict[str, str]]:
    """The EMA weights of a run as an inference model (eval mode), and the state's metadata."""
    tensors, meta = read_state(Path(run_dir))
    model = DiffWave(ModelConfig.from_json(meta["config"]))
    model.load_state_dict(split(tensors, "ema/"))
    return model.eval(), meta




def export(run_dir: str | Path, out: str | Path, replace: bool = False) -> DiffWave:
    """Write the EMA weights of a run as an inference model (safetensors); never onto the run's own files."""
    run_dir, out = Path(run_dir), Path(out)
    if out.name in RUN_FILES and out.resolve().parent == run_dir.resolve():
        raise UserError(f"refusing to export onto the run's own {out.name}: choose another --out")
    model, meta = ema_model(run_dir)
    save_model(out, model, extra={"training_steps": meta["step"], "train": meta["train"]}, replace=replace)
    return model
