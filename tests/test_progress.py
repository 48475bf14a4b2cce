"""benchmarks.progress: one row per checkpoint, merged by training steps, into the card."""

import json

import pytest
import torch

from benchmarks import progress
from benchmarks.common import TINY
from diffwave.checkpoint import save_model
from diffwave.io.errors import UserError
from diffwave.model import DiffWave

FAST = ["--samples", "1", "--seconds", "0.5", "--steps", "3", "--clips", "2"]


def _checkpoint(path, steps, seed):
    torch.manual_seed(seed)
    model = DiffWave(TINY)
    torch.nn.init.normal_(model.output_projection.weight, std=0.05)
    save_model(path, model, extra={"training_steps": str(steps)} if steps is not None else None)
    return path


def test_rows_merge_by_training_steps_and_fill_the_card(tmp_path, monkeypatch):
    a, b = _checkpoint(tmp_path / "a.safetensors", 200, 0), _checkpoint(tmp_path / "b.safetensors", 100, 1)
    card, fig = tmp_path / "card.md", tmp_path / "fig"
    card.write_text("# card\n<!-- progress:start -->\nold\n<!-- progress:end -->\nprose stays\n")
    progress.main([str(a), str(b), "--card", str(card), "--figures", str(fig), *FAST])
    first = json.loads((fig / "progress.json").read_text())["rows"]
    assert [r["training steps"] for r in first] == [100, 200]

    _checkpoint(tmp_path / "c.safetensors", 300, 2)
    progress.main([str(tmp_path / "c.safetensors"), "--card", str(card), "--figures", str(fig), *FAST])
    rows = json.loads((fig / "progress.json").read_text())["rows"]
    assert [r["training steps"] for r in rows] == [100, 200, 300]
    assert rows[:2] == first  # earlier rows kept, not remeasured
    text = card.read_text()
    assert "old" not in text and "prose stays" in text and "| 300 |" in text and (fig / "progress.png").exists()

    monkeypatch.setattr(progress, "measure", lambda *a, **k: pytest.fail("measured before the settings check"))
    with pytest.raises(UserError, match="measured with"):  # other settings would not be comparable
        progress.main([str(a), "--card", str(card), "--figures", str(fig), *FAST[:-1], "1"])


def test_a_file_without_training_steps_is_refused(tmp_path):
    bare = _checkpoint(tmp_path / "bare.safetensors", None, 0)
    with pytest.raises(UserError, match="training_steps"):
        progress.main([str(bare), "--card", str(tmp_path / "c.md"), "--figures", str(tmp_path / "f"), *FAST])


def test_benchmark_scripts_turn_bad_input_into_one_line(tmp_path, capsys):
    """Every benchmark's __main__ goes through run_script: 'error: ...', exit 1, no traceback."""
    from benchmarks.common import run_script

    with pytest.raises(SystemExit) as exit_info:
        run_script(lambda: progress.main([str(tmp_path / "missing.safetensors"), "--card", str(tmp_path / "c.md"),
                                          "--figures", str(tmp_path / "f")]))
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err.startswith("error: ") and "missing.safetensors" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "f").exists() and not (tmp_path / "c.md").exists()
