"""The joint between known and generated audio.

The sampler's x_0 spans [known | new] and is continuous across the seam, but the output
keeps the user's samples, not the model's version of them. For replacement samplers the
two agree exactly; for lambda guidance (lambda = 1 at the end) the model's reconstruction
differs slightly, and splicing would leave a step of that size at the seam, a click.
``residual_fade`` removes the step: it adds the offset (true - model) at the last known
sample to the new audio and fades it out with a raised cosine over ``fade`` samples, so the
output is continuous at the seam and equals the model's continuation after the fade.
"""

from __future__ import annotations

import numpy as np


def fade_weights(fade: int) -> np.ndarray:
    """Raised cosine from 1 to 0 over ``fade`` samples: w[k] = (1 + cos(pi k / fade)) / 2. [fade]"""
    k = np.arange(fade)
    return 0.5 * (1.0 + np.cos(np.pi * k / max(fade, 1)))


def residual_fade(true_last: np.ndarray | float, model_last: np.ndarray | float, continuation: np.ndarray,
                  fade: int) -> np.ndarray:
    """continuation [G] or [G, C] plus (true_last - model_last) * w, w = fade_weights(fade)."""
    out = np.array(continuation, dtype=np.float64, copy=True)
    k = min(fade, out.shape[0])
    if k == 0:
        return out
    offset = np.asarray(true_last, dtype=np.float64) - np.asarray(model_last, dtype=np.float64)
    w = fade_weights(fade)[:k]
    out[:k] += w.reshape(-1, *([1] * (out.ndim - 1))) * offset
    return out
