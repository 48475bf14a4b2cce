"""benchmarks.long_run: the replay measure, the table's spans, and a smoke run."""

import json

import numpy as np

from benchmarks.long_run import per_second, replay, spans


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


def test_long_run_smoke(tmp_path):
    from benchmarks import long_run

    long_run.main(["--tiny", "--steps", "4", "--seconds", "2", "--clips", "1", "--guides", "lpc,match",
                   "--out", str(tmp_path / "l")])
    data = json.loads((tmp_path / "l" / "long_run.json").read_text())
    assert [r["guide"] for r in data["rows"]] == ["lpc", "lpc", "match", "match"]
    assert len(data["runs"]["match"][0]) == 2 and (tmp_path / "l" / "long_run.png").stat().st_size > 1000
    assert "| match | 2 |" in (tmp_path / "l.md").read_text()
    (tmp_path / "l" / "long_run.png").unlink()
    long_run.main(["--replot", str(tmp_path / "l" / "long_run.json"), "--out", str(tmp_path / "l")])
    assert (tmp_path / "l" / "long_run.png").stat().st_size > 1000
