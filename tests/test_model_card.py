"""benchmarks.model_card: the denoising diagnostic's arithmetic, and a smoke run."""

import json

import numpy as np
import pytest
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


def test_denoising_only_prints_the_table_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """--denoising-only: one row per level on stdout; no card, figures or samples are written."""
    monkeypatch.chdir(tmp_path)
    model_card.main(["--tiny", "--clips", "2", "--denoising-only", "--card", "card.md", "--figures", "fig"])
    out = capsys.readouterr().out
    assert "model x0-SNR dB" in out and all(f"\n| {t} |" in out for t in model_card.DENOISE_STEPS)
    assert list(tmp_path.iterdir()) == []


def test_training_record_reads_the_measured_model_not_the_bundled_one(tmp_path):
    """--model X: the record's steps and options come from X's own metadata."""
    from diffwave.checkpoint import save_model
    from diffwave.model import DiffWave

    run = tmp_path / "run"
    run.mkdir()
    (run / "log.csv").write_text("step,loss,steps_per_s,elapsed_s\n10,0.5,2.0,5.0\n20,0.4,2.0,10.0\n")
    (tmp_path / "fig").mkdir()
    model_file = tmp_path / "m.safetensors"
    save_model(model_file, DiffWave(ModelConfig(residual_channels=4, residual_layers=2, dilation_cycle=2)),
               extra={"training_steps": "17", "train": json.dumps({"batch_size": 64})})
    text = model_card.training_record(run, tmp_path / "fig", model_file)
    assert "this model: 17" in text and "'batch_size': 64" in text
    assert "this model: n/a" in model_card.training_record(run, tmp_path / "fig", None)


def test_denoising_rows_take_the_asked_length():
    """Rows of 2 s use all of 2 s clips (a block prior needs the engine's frame), and clips
    shorter than the rows are refused with the length named."""
    val = [piano_like(2.0, 8000) for _ in range(2)]
    for row in model_card.denoising_rows(ZeroEps(), val, seconds=2.0):
        assert abs(row["model x0-SNR dB"] - row["no-denoising SNR dB"]) < 0.5, row
    with pytest.raises(model_card.UserError, match="shortest is 2.00 s"):
        model_card.denoising_rows(ZeroEps(), val, seconds=3.0)
    with pytest.raises(model_card.UserError, match="positive length"):
        model_card.denoising_rows(ZeroEps(), val, seconds=0.0)
