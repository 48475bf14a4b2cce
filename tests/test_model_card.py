"""benchmarks.model_card: the denoising diagnostic's arithmetic, and a smoke run."""

import json

import numpy as np
import torch

from benchmarks import model_card
from diffwave.config import ModelConfig

from .conftest import piano_like


class ZeroEps(torch.nn.Module):
    """Predicts eps = 0, so x0_hat = x_t / sqrt(abar): exactly the 'no denoising' baseline."""

    config = ModelConfig(sample_rate=8000)

    def forward(self, x, t):
        return torch.zeros_like(x)


def test_no_denoising_model_scores_the_baseline():
    val = [piano_like(1.0, 8000) for _ in range(4)]
    for row in model_card.denoising_rows(ZeroEps(), val):
        assert abs(row["model x0-SNR dB"] - row["no-denoising SNR dB"]) < 0.5, row


def test_model_card_smoke(tmp_path):
    card = tmp_path / "card.md"
    card.write_text("# card\n<!-- measured:start -->\nold\n<!-- measured:end -->\nprose stays\n")
    model_card.main(["--tiny", "--samples", "2", "--seconds", "0.5", "--steps", "3", "--clips", "1", "--run", str(tmp_path / "none"),
                     "--card", str(card), "--figures", str(tmp_path / "fig")])
    text = card.read_text()
    assert "old" not in text and "prose stays" in text and "x0-SNR" in text
    data = json.loads((tmp_path / "fig" / "measured.json").read_text())
    assert [r["t"] for r in data["denoising"]] == list(model_card.DENOISE_STEPS)
    assert np.isfinite(data["ks"])
