"""Training speed: steps/s and audio-seconds/s per model config, device, precision and thread count.

Every setting runs in a fresh process (so its peak memory is its own) through the real
training loop (:func:`diffwave.training.loop.train`) on the bundled example clips: a few warm-up
steps, then timed steps. It also profiles one step (torch.profiler), the host-side evidence
of where a step's time goes.

    python -m benchmarks.train_speed --out docs/train_speed            # CPU settings
    python -m benchmarks.train_speed --devices cuda --precisions bf16  # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from diffwave.io.errors import UserError
from diffwave.training.loop import compile_mode

from .common import CLIPS, machine, replace_section, run_script, table, write_json

# name -> (ModelConfig fields, TrainConfig fields); crops default to 0.51 s (2 receptive fields)
CONFIGS = {
    "c32l20-eps": ({"residual_channels": 32, "residual_layers": 20, "dilation_cycle": 10},
                                      {"batch_size": 8}),
    "c32l20-v-scale4": ({"residual_channels": 32, "residual_layers": 20, "dilation_cycle": 10,
                                        "parameterization": "v", "data_scale": 4.0}, {"batch_size": 8, "objective": "v"}),
}


def measure_one(config_name: str, device: str, precision: str, threads: int, steps: int, warmup: int,
                profile: bool, path: str = "plain", batch: int | None = None, crop: float | None = None,
                compiled: bool | str = False) -> dict:
    """Train ``warmup + steps`` steps of one setting in this process; time the last ``steps``.
    ``path`` "device" is the fast path (``TrainConfig.device_data``); ``compiled`` uses torch.compile (True, or a mode name)."""
    from diffwave.config import ModelConfig
    from diffwave.training.config import TrainConfig
    from diffwave.training.loop import train

    torch.set_num_threads(threads)
    arch, opts = CONFIGS[config_name]
    config = ModelConfig(**arch)
    opts = {**opts, **({"batch_size": batch} if batch else {}), **({"crop_seconds": crop} if crop else {})}
    fast = path == "device"
    cfg = TrainConfig(max_steps=warmup + steps, save_every=10**9, log_every=steps if fast else 10**9,
                      device_data=fast, **opts)
    times: list[float] = []
    dev = torch.device(device)
    last = warmup + steps
    prof = _one_step_profiler() if profile else None  # the real loop's last step, not a copy of it
    with tempfile.TemporaryDirectory() as tmp:
        def on_step(step: int, loss: float, rate: float) -> None:
            if step in (warmup, last):  # the clock is read (and a GPU synchronised) at the ends only
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter())
            if prof is not None and step == last - 1:
                prof.start()
            elif prof is not None and step == last:
                prof.stop()

        state = train(CLIPS, Path(tmp) / "run", config, cfg, dev, on_step=on_step, precision=precision,
                      compile=compiled)
        rate = steps / (times[-1] - times[0])
        crop_s = cfg.crop_samples(state.model) / config.sample_rate
        label = "" if not compiled else " + compile" if compiled is True else f" + compile {compiled}"
        row = {"config": config_name, "path": path + label, "device": device,
               "batch x crop": f"{cfg.batch_size} x {crop_s:.2f} s", "precision": precision, "threads": threads,
               "steps/s": rate, "audio s per s": rate * cfg.batch_size * crop_s, "ms per step": 1000 / rate,
               "peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        if device == "cuda":
            row["peak GPU MB"] = torch.cuda.max_memory_allocated() / 2**20
        if prof is not None:
            row["profile"] = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
    return row


def _one_step_profiler():
    """A torch.profiler started and stopped by hand around one training step (CPU ops)."""
    from torch.profiler import ProfilerActivity, profile

    return profile(activities=[ProfilerActivity.CPU])


def run_setting(args, config_name: str, device: str, precision: str, threads: int, profile: bool,
                path: str = "plain") -> dict:
    cmd = [sys.executable, "-m", "benchmarks.train_speed", "--one", config_name, "--devices", device, "--precisions",
           precision, "--threads", str(threads), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--paths", path] + (["--batch", str(args.batch)] if args.batch else []) \
        + (["--crop", str(args.crop)] if args.crop else []) + (["--compile"] if args.compile else []) \
        + (["--compile-mode", args.compile_mode] if args.compile_mode else [])
    if profile:
        cmd.append("--profile")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"setting {config_name}/{device}/{precision}/{threads} threads failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


COLUMNS = ["config", "path", "device", "batch x crop", "precision", "threads", "steps/s", "audio s per s", "ms per step",
           "peak RSS MB", "peak GPU MB"]
PARITY_WINDOW = 250


def parity(fp32_run: Path, bf16_run: Path, start: int) -> dict:
    """Loss of two runs resumed from one state at step ``start`` (same batches and noise), in
    windows of PARITY_WINDOW steps, and each run's training speed after ``start``."""
    from .paired_loss import compare_logs

    return compare_logs({"fp32": fp32_run, "bf16": bf16_run}, start, PARITY_WINDOW)


def parity_plot(path: Path, result: dict) -> Path:
    from . import plots

    return plots.loss_parity(path, result["logs"], result["start"])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="c32l20-eps", help=f"comma-separated, from: {', '.join(CONFIGS)}")
    p.add_argument("--devices", default="cpu")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--paths", default="plain", help="plain (CPU-drawn batches) and/or device (--device-data)")
    p.add_argument("--batch", type=int, default=None, help="crops per step [the config's]")
    p.add_argument("--crop", type=float, default=None, help="crop seconds [2 receptive fields]")
    p.add_argument("--compile", action="store_true", help="torch.compile the network")
    p.add_argument("--compile-mode", default=None, help="with --compile: a torch.compile mode, e.g. reduce-overhead "
                   "(CUDA graphs on a GPU)")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path("docs/train_speed"))
    p.add_argument("--parity", nargs=2, type=Path, metavar=("FP32_RUN", "BF16_RUN"), default=None,
                   help="compare the loss of two runs resumed from one state (instead of timing)")
    p.add_argument("--parity-start", type=int, default=0, help="the step both runs resumed from")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process: one setting, JSON on stdout
    p.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = [c for c in args.configs.split(",") if c not in CONFIGS]
    if unknown:
        raise UserError(f"unknown config {unknown[0]!r}; choose from {', '.join(CONFIGS)}")
    if args.compile_mode is not None:
        if not args.compile:
            raise UserError("--compile-mode needs --compile")
        compile_mode(args.compile_mode)  # one clear line for a bad mode, before any setting runs
    if args.parity:
        result = parity(*args.parity, args.parity_start)
        if not result["windows"]:
            raise UserError(f"the two runs share fewer than {PARITY_WINDOW} steps after step {args.parity_start}")
        write_json(args.out / "parity.json", {k: v for k, v in result.items() if k != "logs"})
        parity_plot(args.out / "parity.png", result)
        speed = result["steps/s"]
        body = (f"Both runs resumed from one state at step {result['start']} and drew the same batches and noise; "
                f"{result['compared steps']} steps compared, one thread each, side by side on this CPU "
                f"(bf16 {speed['bf16']:.2f} steps/s, fp32 {speed['fp32']:.2f}: {speed['bf16'] / speed['fp32']:.2f}x).\n\n"
                + table(result["windows"], ["steps", "fp32", "bf16", "bf16 / fp32"])
                + f"\n![loss parity]({args.out.name}/parity.png)\n")
        replace_section(args.out.with_suffix(".md"), "parity", body)
        print(body)
        return
    if args.one:
        print(json.dumps(measure_one(args.one, args.devices, args.precisions, int(args.threads), args.steps,
                                     args.warmup, args.profile, args.paths, args.batch, args.crop,
                                     (args.compile_mode or True) if args.compile else False)))
        return
    rows = []
    for name in args.configs.split(","):
        for device in args.devices.split(","):
            for precision in args.precisions.split(","):
                for threads in (int(t) for t in args.threads.split(",")):
                    for path in args.paths.split(","):
                        rows.append(run_setting(args, name, device, precision, threads, profile=False, path=path))
                        print(table(rows[-1:], COLUMNS), flush=True)
    first = rows[0]  # profiled in a process of its own, so that no timed row carries the profiler's cost
    profile_text = run_setting(args, first["config"], first["device"], first["precision"], first["threads"],
                               profile=True)["profile"]
    write_json(args.out / "train_speed.json", {"rows": rows, "machine": machine(), "profile": profile_text})
    body = (f"{args.steps} timed steps after {args.warmup} warm-up steps, each setting in a fresh process; "
            f"{machine()}.\n\n" + table(rows, COLUMNS)
            + f"\n\nOne step of the first setting, by self CPU time (torch.profiler):\n\n```\n{profile_text}```\n")
    replace_section(args.out.with_suffix(".md"), "train-speed", body)
    print(f"wrote {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    run_script(main)
