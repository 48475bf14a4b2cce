"""The paired model A/B on constructed runs with known answers, and the script end to end."""

import json

import numpy as np
import pytest

from benchmarks.continuation import WINDOWS
from benchmarks.model_ab import MEASURES, compare, main, per_seed


def runs(scale: float = 1.0, centroid: float = 1.2, prompts: int = 8, seeds: int = 2) -> list[dict]:
    """Runs whose retention differs by prompt and seed, times ``scale``."""
    rng = np.random.default_rng(0)
    return [{"prompt": f"clip{p}", "seed": s, "centroid ratio": centroid,
             "retention": (scale * rng.uniform(0.05, 0.5, len(WINDOWS))).tolist()}
            for p in range(prompts) for s in range(seeds)]


def by_measure(rows):
    return {r["measure"]: r for r in rows}


def test_a_model_twice_as_loud_wins_every_prompt():
    """B = 2 A in every run: ratio 2 in every window, 8/8 prompts, the smallest p for 8 pairs."""
    rows = by_measure(compare(runs(), runs(scale=2.0)))
    for a, b in WINDOWS:
        row = rows[f"retention {a:g}-{b:g} s"]
        assert row["B/A (median over prompts)"] == pytest.approx(2.0)
        assert row["B better in"] == "8/8"
        assert row["Wilcoxon p"] == pytest.approx(2 / 256)


def test_identical_models_tie():
    """The same runs on both sides: ratio 1, no wins, p = 1."""
    rows = compare(runs(), runs())
    assert [r["measure"] for r in rows] == MEASURES
    for row in rows:
        assert row["B/A (median over prompts)"] == pytest.approx(1.0)
        assert row["B better in"] == "0/8" and row["Wilcoxon p"] == 1.0


def test_one_lucky_seed_shows_in_the_per_seed_rows():
    """B is 4x A under seed 1 and 0.8x under seed 0 on every prompt: the seed-averaged test
    says B wins 8/8, the per-seed rows show that only one draw carries it."""
    a = runs()
    b = [{**r, "retention": [v * (4.0 if r["seed"] == 1 else 0.8) for v in r["retention"]]} for r in a]
    assert by_measure(compare(a, b))["retention 0.5-1 s"]["B better in"] == "8/8"
    rows = {r["seed"]: r for r in per_seed(a, b)}
    assert set(rows) == {0, 1}
    assert rows[0]["retention 0.5-1 s"] == pytest.approx(0.8) and rows[0]["B better in (0.5-1 s)"] == "0/8"
    assert rows[1]["retention 0.5-1 s"] == pytest.approx(4.0) and rows[1]["B better in (0.5-1 s)"] == "8/8"


def test_centroid_closer_to_the_real_one_wins_and_silence_stays_finite():
    """A centroid ratio of 1.1 beats 2.0 (both sides of 1 count by distance); a silent run
    (retention 0) is floored, not -inf, so it loses instead of vanishing from the test."""
    silent = runs()
    for r in silent:
        r["retention"] = [0.0] * len(WINDOWS)
    rows = by_measure(compare(runs(centroid=2.0), silent))
    row = rows["retention 0-0.1 s"]
    assert row["B better in"] == "0/8" and row["Wilcoxon p"] < 0.01 and row["B/A (median over prompts)"] < 1e-3
    rows = by_measure(compare(runs(centroid=2.0), runs(centroid=1 / 1.1)))
    assert rows["centroid distance"]["B better in"] == "8/8"


def test_model_ab_script_pairs_seeds(tmp_path):
    """The same tiny model as A and B: the same seeds give the same audio, so every measure ties."""
    main(["tiny", "tiny", "--quick", "--steps", "3", "--first-seed", "2", "--out", str(tmp_path / "ab")])
    data = json.loads((tmp_path / "ab" / "model_ab.json").read_text())
    assert set(data["sets"]) == {"reference clips", "synthetic notes"}
    for row in data["sets"]["reference clips"]:
        assert row["B/A (median over prompts)"] == pytest.approx(1.0) and row["Wilcoxon p"] == 1.0
    assert len(data["runs"]["a"]) == len(data["runs"]["b"]) == 4 + 3
    assert data["precision"] == "auto" and data["first_seed"] == 2
    assert {r["seed"] for r in data["runs"]["a"]} == {2}
    assert [r["seed"] for r in data["per seed"]["reference clips"]] == [2]
    assert "Wilcoxon p" in (tmp_path / "ab.md").read_text()


def test_model_ab_missing_model_is_one_line(tmp_path, capsys):
    """A missing model file: one error line, exit status 1, before any extension runs."""
    with pytest.raises(SystemExit) as exc:
        from benchmarks.common import run_script

        run_script(lambda: main(["tiny", str(tmp_path / "nope.safetensors"), "--out", str(tmp_path / "ab")]))
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nope.safetensors" in err[0]
    assert not (tmp_path / "ab").exists()
