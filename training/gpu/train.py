"""Train on a lent GPU without the CLI (the device image's typer is too old for ours).

    python training/gpu/train.py SHARDS RUN_DIR --minutes 8 [--init MODEL] [--mixed-levels] ...

Same loop as ``diffwave train`` (:func:`diffwave.training.loop.train`), with the fast path
(``device_data``), bf16 autocast, the state written in parts of at most ``--state-mb`` MB (so
it comes back through $OUT's 16 MiB files), and a time budget: it saves and exits 0 at the end.
Rerunning it with the same arguments resumes exactly. Tested on the CPU with ``--device cpu``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, not an installed copy

import torch  # noqa: E402

from diffwave.config import ModelConfig  # noqa: E402
from diffwave.io.errors import UserError  # noqa: E402
from diffwave.training import TrainConfig, train  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--device", default="cuda")
    p.add_argument("--precision", default="bf16")
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--layers", type=int, default=20)
    p.add_argument("--dilation-cycle", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--crop-seconds", type=float, default=1.0)
    p.add_argument("--mixed-levels", action="store_true")
    p.add_argument("--terminal-alpha-bar", type=float, default=1e-4, help="abar_T of the schedule; 0: the plain one")
    p.add_argument("--loss", default="l2", help="l2 (the conditional mean the samplers need) or l1")
    p.add_argument("--init", default="")
    p.add_argument("--warmup-steps", type=int, default=0, help="ramp the learning rate over the first N steps")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--compile-mode", default=None, help="torch.compile mode with --compile; reduce-overhead: CUDA graphs")
    p.add_argument("--state-mb", type=float, default=15.0)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=50)
    args = p.parse_args()
    if args.compile_mode is not None and not args.compile:
        raise UserError("--compile-mode needs --compile")
    config = ModelConfig(residual_channels=args.channels, residual_layers=args.layers,
                         dilation_cycle=args.dilation_cycle, parameterization="v", data_scale=4.0,
                         mixed_levels=args.mixed_levels, terminal_alpha_bar=args.terminal_alpha_bar or None)
    cfg = TrainConfig(batch_size=args.batch_size, crop_seconds=args.crop_seconds, objective="v", loss=args.loss,
                      save_every=args.save_every, log_every=args.log_every, device_data=True, init=args.init,
                      warmup_steps=args.warmup_steps)
    deadline = time.monotonic() + 60 * args.minutes
    state = train(args.data, args.out, config, cfg, torch.device(args.device), precision=args.precision,
                  should_stop=lambda: time.monotonic() >= deadline, state_mb=args.state_mb,
                  compile=(args.compile_mode or True) if args.compile else False,
                  on_step=lambda s, loss, r: print(f"step {s} loss {loss:.4f} {r:.1f} steps/s", flush=True)
                  if s % args.log_every == 0 else None)
    print(f"done: step {state.step}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
