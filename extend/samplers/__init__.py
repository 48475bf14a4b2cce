"""Inpainting samplers: small pure functions with one signature, selected by name.

Every sampler is ``f(model, noise, known, mask, schedule, generator, callback=None, **knobs)``:

- ``model(x [B, L], t [B]) -> eps [B, L]``: the denoiser (a DiffWave, or any stand-in). A
  sampler registered with ``requires="mixed_levels"`` also passes a level map t [B, L].
- ``noise [B, L]``: standard-normal initial noise; x_T is built from it, so samplers given
  the same noise start from the identical x_T (the paper's fairness protocol).
- ``known [B, L]``: the known audio where ``mask`` is 1. Where ``mask`` is 0 it is a guess at
  the generated audio, 0 for none: x_T there is q(x_T | guess), which only matters when the
  schedule stops short of pure noise (:meth:`diffwave.schedule.Schedule.lowest`, SDEdit).
- ``mask [B, L]`` or ``[L]``: 1.0 where audio is known, 0.0 where it is generated.
- ``schedule``: a :class:`diffwave.schedule.Schedule` (full or fast).
- ``generator``: the only source of randomness.
- ``callback({"i", "n", "x", "x0"})`` after every reverse step: i counts reverse steps taken, x is
  the state after the step, x0 the network's clean estimate at level n (DDPM eq. 15), as
  k-diffusion's ``denoised``.

Returns x_0 [B, L]. Adding a sampler means one function and one ``@register`` line.
A sampler with knobs owns their defaults (its keyword defaults, which may depend on the
schedule) and their checks (``@register(name, check=...)``), so callers pass only what the
user gave.
"""

from .common import noised_known, start  # noqa: I001 (registry first; the samplers below register on import)
from .ddim import check_ddim, ddim
from .forcing import forcing
from .guidance import check_guidance, guidance
from .registry import (
                       CHECKS,
                       REQUIRES,
                       SAMPLERS,
                       SHARED,
                       Callback,
                       Sampler,
                       check_knobs,
                       check_model,
                       register,
                       sampler_knobs,
                       usable,
)
from .repaint import check_repaint, repaint
from .replacement import guided, naive, reverse_lambda

__all__ = ["CHECKS", "REQUIRES", "SAMPLERS", "SHARED", "Callback", "Sampler", "check_ddim", "check_guidance",
           "check_knobs", "check_model", "check_repaint", "ddim", "forcing", "guidance", "guided", "naive", "noised_known", "register", "repaint", "reverse_lambda",
           "sampler_knobs", "start", "usable"]
