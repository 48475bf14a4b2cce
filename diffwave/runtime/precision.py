"""Numeric precision of network passes: fp32, or bf16 autocast with fp32 weights.

bf16 autocast runs convolutions and linear layers in bfloat16 (accumulating in fp32) and
keeps everything else, weights included, in fp32. On this project's CPU (AMX/avx512_bf16)
one C32/L20 pass over 1.8 s of audio took 62 ms against 97 ms in fp32, with a relative
eps error of 4e-3. "auto" is bf16 on a CUDA GPU that supports it and fp32 elsewhere (a CPU,
a T4 or V100), so a CPU default stays exact.
"""

from __future__ import annotations

import torch

from ..io.errors import UserError

PRECISIONS = ("auto", "fp32", "bf16")


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether ``precision`` means bf16 autocast on ``device``; one-line UserError if unknown."""
    if precision not in PRECISIONS:
        raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":  # bf16 only where the GPU has it (not a T4 or V100)
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return precision == "bf16"


class Autocast(torch.nn.Module):
    """A denoiser whose passes run under bf16 autocast and return fp32 eps [B, L]."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):
            return self.model(x, t).float()


def cpu_bf16() -> str:
    """This CPU's bf16 arithmetic as torch sees it: "amx", "avx512_bf16", "emulated" (an x86
    CPU with neither) or "unknown" (another architecture, or a torch without the flags)."""
    capabilities = getattr(torch.cpu, "get_capabilities", None)  # torch >= 2.6
    caps = capabilities() if capabilities is not None else {}
    if caps.get("architecture") != "x86_64":
        return "unknown"
    return "amx" if caps.get("amx_bf16") else "avx512_bf16" if caps.get("avx512_bf16") else "emulated"


def emulated_bf16_warning(precision: str, device: torch.device) -> str | None:
    """One line when ``precision`` asks for bf16 on an x86 CPU without bf16 arithmetic, else None.

    Without AVX512-BF16 or AMX, oneDNN emulates bf16 and autocast is many times slower than
    fp32: one bundled-model pass over 2 s took 9.2 s in bf16 against 0.68 s in fp32 on a
    2-core AVX2 EPYC.
    """
    if device.type != "cpu" or not use_bf16(precision, device) or cpu_bf16() != "emulated":
        return None
    return ("bf16 is emulated on this CPU (no AVX512-BF16 or AMX) and runs many times slower than fp32; "
            "leave out --precision bf16")


def for_precision(model: torch.nn.Module, precision: str) -> torch.nn.Module:
    """``model`` itself for fp32, or wrapped in :class:`Autocast` for bf16."""
    device = next(model.parameters()).device
    return Autocast(model) if use_bf16(precision, device) else model
