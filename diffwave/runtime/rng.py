"""Every random generator the project uses, derived from a seed and counters; nothing touches
the global RNG. A stream's counters and their weights fix its seed formula:

    seed' = (seed * 1_000_003 + sum_k counter_k * weight_k) mod (2^63 - 1)

| stream | counters | weights | used for |
|---|---|---|---|
| ``FRAME`` | (frame,) | (7_919,) | the noise of extension frame k and of gap chunks (:mod:`extend.frames`) |
| ``TRAINING_STEP`` | (step, rank) | (65_537, 257) | crops, levels and noise of one training step (:mod:`diffwave.training.loop`) |
"""

from __future__ import annotations

from typing import Sequence

import torch

FRAME = (7_919,)
TRAINING_STEP = (65_537, 257)


def derived_generator(seed: int, counters: Sequence[int], weights: Sequence[int],
                      device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator on ``device`` seeded from ``seed`` and ``counters`` (formula in the module doc)."""
    if len(counters) != len(weights):
        raise ValueError(f"{len(counters)} counters for {len(weights)} weights")
    value = seed * 1_000_003 + sum(int(c) * w for c, w in zip(counters, weights))
    return torch.Generator(device=device).manual_seed(value % (2**63 - 1))
