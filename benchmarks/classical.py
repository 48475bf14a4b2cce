"""A classical denoiser behind the model interface, so the engine's samplers can run on it.

Power spectral subtraction over the whole window the sampler passes, then the Wiener gain: no
weights, no training, only the noise level that t gives. It is a reference for the tone
positive control and the yardstick (``python -m benchmarks.classical``): on a steady sinusoid its gain is a
narrow band-pass whose long impulse response carries the context's partial across the seam,
so it shows what the samplers do with a denoiser that can find a partial under heavy noise.
It knows nothing of music: unconditionally it draws a few steady sinusoids at random
frequencies (the noise bins that first pass the threshold grow over the reverse steps), and
after a context it sustains every partial of the window, the notes that ended included.
"""

from __future__ import annotations

import torch
from torch import nn

from diffwave.config import ModelConfig
from diffwave.schedule import training_schedule
from diffwave.spectral import WHOLE_WINDOW, interpolate_sqrt_alpha_bar, spectral_prior, subtraction_estimate

__all__ = ["SpectralSubtraction", "subtraction_estimate", "main"]


class SpectralSubtraction(nn.Module):
    """forward(x_t [B, L], t [B]) -> eps estimate [B, L], like :class:`diffwave.model.DiffWave`.

    The eps of :func:`diffwave.spectral.spectral_prior`: y = x_t / sqrt(abar_t) = x0 +
    sqrt((1 - abar_t) / abar_t) z (DDPM eq. 4), x0_hat by power spectral subtraction with the
    threshold ln(n / 2), eps = (x_t - sqrt(abar_t) x0_hat) / sqrt(1 - abar_t). ``config``
    supplies the schedule and the data scale; the window is the whole input, so
    ``receptive_field`` is unbounded and the engine never crops the context. A DiffWave with
    ``config.spectral_prior`` starts from exactly this (``diffwave grow --spectral-prior``)."""

    receptive_field = WHOLE_WINDOW

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        sqrt_abar = training_schedule(config).alpha_bars.sqrt().float()
        self.register_buffer("sqrt_alpha_bar", sqrt_abar, persistent=False)  # [T]
        self.anchor = nn.Parameter(torch.zeros(()), requires_grad=False)  # the engine reads device from parameters()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if t.dim() != 1:
            raise ValueError("SpectralSubtraction takes one level per row: t [B]")
        return spectral_prior(x, interpolate_sqrt_alpha_bar(self.sqrt_alpha_bar, t), "eps")[1]


def main(argv: list[str] | None = None) -> None:
    """The continuation yardstick (``lambda``) on :class:`SpectralSubtraction`, with the bundled
    model's schedule and data scale, on the reference clips, the synthetic notes and the steady sines."""
    import argparse
    from pathlib import Path

    from . import continuation as yard
    from .common import pick_model, timed, write_json

    p = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--out", type=Path, default=Path("docs/classical"))
    p.add_argument("--card", type=Path, default=None, help="markdown file to write the table into [OUT.md]")
    p.add_argument("--section", default="classical", help="name of the card's marked section to replace")
    args = p.parse_args(argv)
    model = SpectralSubtraction(pick_model(None, False).config)
    results, rows, secs = {}, [], 0.0
    for which in ("reference", "synthetic", "sines"):
        result, s = timed(yard.measure, model, ["lambda"], args.seeds, args.steps, precision="fp32", which=which)
        results[which], rows, secs = result, rows + result["rows"], secs + s
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "continuation.json", results)
    envelopes = {f"{which}: {k}": v for which, r in results.items() for k, v in r["envelopes"].items()}
    yard.energy_plot(args.out / "energy.png", envelopes)
    head = (f"Denoiser: `benchmarks.classical.SpectralSubtraction` (the bundled model's schedule and data scale); "
            f"`lambda`, {args.steps} steps, {args.seeds} seed(s) per prompt; frames of 1 s new after 4 s context; fp32; "
            f"{secs / 60:.1f} min on {results['sines']['machine']}.")
    yard.publish(args.out, args.card or args.out.with_suffix(".md"), args.section, head, rows, secs)

if __name__ == "__main__":
    from .common import run_script

    run_script(main)
