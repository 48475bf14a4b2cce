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
import math
import time
from pathlib import Path
from typing import Callable

import torch

from ..config import ModelConfig
from ..io.errors import UserError, require_own_folder
from ..model import DiffWave
from ..runtime.precision import use_bf16
from ..sampling import forward_noise
from ..schedule import training_schedule
from .config import TrainConfig
from .data import DeviceCrops, RandomCrops, step_generator
from .distributed import agree, rank_and_world
from .levels import level_maps
from .runlog import plot_loss, truncate_after, write_rows
from .state import RunState, _init_model, init_steps, load_state, new_state, save_state
from .statefile import STATE_FILE, remove_stale_temporaries


def loss_weight(objective: str, alpha_bar: torch.Tensor) -> torch.Tensor:
    """Weight on |eps_hat - eps| that measures the error in ``objective`` space (module doc)."""
    if objective == "eps":
        return torch.ones_like(alpha_bar)
    if objective == "v":
        return alpha_bar.rsqrt()
    return ((1.0 - alpha_bar) / alpha_bar).sqrt()


def _ema_update(ema: DiffWave, model: DiffWave, decay: float) -> None:
    """ema <- ema + (1 - decay) (model - ema), for all parameters in one foreach kernel."""
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()], 1.0 - decay)




COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile_mode(compile: bool | str) -> str | None:
    """The ``torch.compile`` mode that ``compile`` asks for (None: off or the default mode)."""
    if isinstance(compile, bool):
        return None
    if compile not in COMPILE_MODES:
        raise UserError(f"compile mode must be one of {', '.join(COMPILE_MODES)}, got {compile!r}")
    return None if compile == "default" else compile


def _check_part_size(config: ModelConfig, state_mb: float | None) -> None:
    """A state in parts of ``state_mb`` MB must hold the largest tensor (fp32) in one part."""
    if state_mb is None:
        return
    largest = max(math.prod(shape) for shape in DiffWave.weight_shapes(config).values()) * 4
    if largest > state_mb * 2**20:
        raise UserError(f"--state-mb {state_mb:g} is smaller than the model's largest tensor ({largest / 2**20:.2f} MB)")


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
    compile: bool | str = False,
) -> RunState:
    """Train until ``train_cfg.max_steps`` or ``should_stop()``; resume from ``run_dir`` if it holds a state.

    ``config`` None means: take it from the run directory (resume) or use the default.
    ``on_step(step, loss, steps_per_s)`` is called on rank 0 after every step.
    ``should_stop()`` is asked after every step (a time budget, a signal); when it says yes the
    state is saved and training returns. Under DDP rank 0's answer is shared with all ranks.
    ``state_mb``: write the state as parts of at most this many MB (:mod:`diffwave.runstate`).
    ``precision``: "fp32", "bf16" (autocast; weights and optimizer stay fp32) or "auto"
    (bf16 on CUDA, fp32 elsewhere). It is a runtime choice and may change on resume.
    ``compile``: run the network through ``torch.compile`` (a runtime choice too); True for its
    default mode, or a mode name (:data:`COMPILE_MODES`): "reduce-overhead" adds CUDA graphs on a GPU.
    ``train_cfg.device_data`` is the fast path for GPUs (:class:`diffwave.training.config.TrainConfig`):
    data on the device (:class:`diffwave.training.data.DeviceCrops`), draws there, fused Adam,
    and the loss read back every ``log_every`` steps; ``on_step`` then sees the last value read.
    """
    bf16 = use_bf16(precision, device)
    mode = compile_mode(compile)
    if state_mb is not None and not (math.isfinite(state_mb) and state_mb > 0):
        raise UserError(f"--state-mb must be a positive number of MB, got {state_mb}")
    run_dir = Path(run_dir)
    rank, world = rank_and_world()
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
        _check_part_size(config, state_mb)  # before the folder is claimed: a run that cannot save never starts
        train_cfg.levels(config.num_steps)  # likewise a band outside the schedule
        if rank == 0:
            _claim_run_dir(run_dir)
        state = new_state(config, train_cfg, device)
        if start is not None:
            state.model.load_state_dict(start.state_dict())
            state.ema.load_state_dict(start.state_dict())
            state.init_steps = init_steps(train_cfg.init)
    elapsed_before = 0.0  # wall-clock of earlier sessions of this run, so the log is cumulative
    if rank == 0:
        previous = truncate_after(run_dir / "log.csv", state.step)
        elapsed_before = previous[-1]["elapsed_s"] if previous else 0.0

    crops = RandomCrops.from_folder(data_dir, config.sample_rate, train_cfg.crop_samples(state.model))
    draw_on = device if train_cfg.device_data else torch.device("cpu")  # where crops, levels and noise are drawn
    if train_cfg.device_data:
        crops = DeviceCrops.from_crops(crops, device)
    abar = training_schedule(config).alpha_bars.float().to(draw_on)
    net = state.model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(state.model, device_ids=[device.index] if device.type == "cuda" else None)
    if compile:
        net = torch.compile(net, mode=mode)
    sync_every = train_cfg.log_every if train_cfg.device_data else 1
    loss_sum, unread = torch.zeros((), device=device), 0  # losses since the last read-back
    loss_value = float("nan")

    def read_loss() -> float:
        """Mean loss since the last read (one host sync); a NaN or inf stops the run."""
        nonlocal unread
        value = float(loss_sum) / unread
        loss_sum.zero_()
        unread = 0
        if not math.isfinite(value):
            raise UserError(f"loss became {value} at step {state.step}; stopped, the last saved checkpoint is "
                            f"intact (try a lower --learning-rate)")
        return value

    low, high = train_cfg.levels(config.num_steps)
    pending: list[dict] = []
    window: list[float] = []  # losses since the last log row; rows hold their mean
    t_start = time.perf_counter()
    t_last, step_last = t_start, state.step
    while state.step < train_cfg.max_steps:
        g = step_generator(train_cfg.seed, state.step, rank, draw_on)
        x0 = crops.batch(train_cfg.batch_size, g) * config.data_scale
        t = torch.randint(low, high, (train_cfg.batch_size,), generator=g, device=draw_on)  # default [0, T): the draws every earlier run made
        noise = torch.randn(x0.shape, generator=g, device=draw_on)
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
        loss_sum += loss.detach()
        unread += 1
        fresh = unread >= sync_every or state.step + 1 >= train_cfg.max_steps
        if fresh:
            loss_value = read_loss()
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(state.model.parameters(), train_cfg.grad_clip)
        if train_cfg.warmup_steps:  # lr_k = lr * min(1, (k + 1) / warmup): a function of the step, so resume is exact
            for group in state.optimizer.param_groups:
                group["lr"] = train_cfg.learning_rate * min(1.0, (state.step + 1) / train_cfg.warmup_steps)
        state.optimizer.step()
        state.step += 1
        _ema_update(state.ema, state.model, min(train_cfg.ema_decay, (1 + state.step) / (10 + state.step)))

        stop = should_stop is not None and agree(rank == 0 and should_stop(), world, device)
        if rank != 0:
            if stop:
                break
            continue
        now = time.perf_counter()
        rate = (state.step - step_last) / max(now - t_last, 1e-9)
        saving = stop or state.step % train_cfg.save_every == 0 or state.step == train_cfg.max_steps
        if saving and unread:  # a save mid-window reads the loss it logs
            loss_value, fresh = read_loss(), True
        if on_step is not None:
            on_step(state.step, loss_value, rate)
        if fresh:
            window.append(loss_value)
        if saving or (state.step % train_cfg.log_every == 0 and window):
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

