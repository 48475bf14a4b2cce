"""benchmarks.long_run: the replay measure, the table's spans, and a smoke run."""

import json

import numpy as np
import pytest

from benchmarks.long_run import add_seed_echo, per_second, replay, spans


def test_replay_is_one_for_a_copy_at_any_gain_and_small_for_new_audio():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(8000)
    assert abs(replay(0.3 * x[2000:3000], x) - 1.0) < 1e-9
    assert replay(rng.standard_normal(1000), x) < 0.2
    assert replay(np.zeros(1000), x) == 0.0


def test_click_windows_find_a_step_and_not_a_tone():
    from benchmarks.metrics import click_windows

    rate = 8000
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * rate) / rate)
    assert not click_windows(tone, rate, rate).any()
    stepped = tone.copy()
    stepped[rate + 3000 :] += 0.3  # a DC step: a click at 3000 samples after the reference
    hits = np.flatnonzero(click_windows(stepped, rate, rate))
    assert len(hits) >= 1 and all(abs(h * 64 - 3000) <= 128 for h in hits)


def test_per_second_levels_and_spans():
    rate = 100
    prompt = np.full(300, 0.1)
    rows = per_second(prompt, np.concatenate([np.full(100, 0.1), np.full(100, 0.01), np.zeros(50)]), rate)
    assert [r["second"] for r in rows] == [1, 2]  # only whole seconds
    assert abs(rows[0]["level change dB"]) < 1e-9 and abs(rows[1]["level change dB"] + 20.0) < 1e-9
    assert spans(30) == [(1, 1), (2, 5), (6, 10), (11, 20), (21, 30)]
    assert spans(3) == [(1, 1), (2, 3)]


def test_seed_echo_per_second_across_clips():
    """Two clips whose second 1 is one waveform (at two gains) and whose second 2 is independent
    noise: echo 1, then near 0; the table's mean over a span keeps it."""
    from benchmarks.long_run import summarise

    rate, rng = 1000, np.random.default_rng(0)
    y = rng.standard_normal(rate)
    new = [np.concatenate([y, rng.standard_normal(rate)]), np.concatenate([0.2 * y, rng.standard_normal(rate)])]
    per_clip = [per_second(np.ones(3 * rate), x, rate) for x in new]
    add_seed_echo(per_clip, new, rate)
    assert [round(s["seed echo"], 6) for s in per_clip[0]] == [1.0, round(per_clip[1][1]["seed echo"], 6)]
    assert abs(per_clip[0][1]["seed echo"]) < 0.1
    rows = summarise({"none": per_clip}, 2)
    assert rows[0]["seed echo"] == pytest.approx(1.0) and abs(rows[1]["seed echo"]) < 0.1


def test_long_run_smoke(tmp_path):
    from benchmarks import long_run

    long_run.main(["--tiny", "--steps", "4", "--seconds", "2", "--clips", "2", "--guides", "lpc,match",
                   "--out", str(tmp_path / "l")])
    data = json.loads((tmp_path / "l" / "long_run.json").read_text())
    assert [r["guide"] for r in data["rows"]] == ["lpc", "lpc", "match", "match"]
    assert len(data["runs"]["match"][0]) == 2 and (tmp_path / "l" / "long_run.png").stat().st_size > 1000
    assert "| match | 2 |" in (tmp_path / "l.md").read_text()
    assert all(-1.0 <= s["seed echo"] <= 1.0 for clip in data["runs"]["lpc"] for s in clip)
    (tmp_path / "l" / "long_run.png").unlink()
    long_run.main(["--replot", str(tmp_path / "l" / "long_run.json"), "--out", str(tmp_path / "new" / "l")])
    assert (tmp_path / "new" / "l" / "long_run.png").stat().st_size > 1000  # the folder is made
    from diffwave.io.errors import UserError

    (tmp_path / "other.json").write_text(json.dumps({"rows": []}))
    with pytest.raises(UserError, match="is not a long_run.json"):
        long_run.main(["--replot", str(tmp_path / "other.json"), "--out", str(tmp_path / "l")])
