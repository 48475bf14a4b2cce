"""The continuation yardstick on constructed signals with known answers."""

import json

import numpy as np
import pytest

from benchmarks.continuation import (
    CONTINUATION_S,
    PROMPT_S,
    WINDOWS,
    pitch_window,
    score_run,
    summarise,
    synthetic_note,
)

RATE = 16000
SEAM = int(PROMPT_S * RATE)
CONT = int(CONTINUATION_S * RATE)


@pytest.fixture(scope="module")
def note():
    """A sustained A4 across the seam: the prompt's real continuation and its pitch."""
    audio = synthetic_note(440.0, RATE)
    real = audio[SEAM : SEAM + CONT]
    return real, *pitch_window(real, RATE)


def test_the_real_continuation_scores_retention_one_and_holds_pitch(note):
    """Scoring the real continuation against itself: retention 1 in every window, pitch held."""
    real, pitch, voiced = note
    assert pitch.voiced and abs(pitch.crepe_hz / 440.0 - 1) < 0.03
    run = score_run(real, real, pitch, voiced, RATE)
    assert run["retention"] == pytest.approx([1.0] * len(WINDOWS))
    assert run["crepe hold"] and run["yin hold"] and run["voiced prompt"]
    row = summarise([run])
    assert row["pitch hold CREPE"] == 1.0 and row["voiced / real"] == pytest.approx(1.0)


def test_silence_scores_retention_zero_and_holds_nothing(note):
    """A continuation that falls silent keeps no energy and no pitch."""
    real, pitch, voiced = note
    run = score_run(np.zeros_like(real), real, pitch, voiced, RATE)
    assert run["retention"] == [0.0] * len(WINDOWS)
    assert not run["crepe hold"] and not run["yin hold"] and run["voiced"] == 0.0


def test_a_continuation_a_fifth_away_fails_pitch_hold(note):
    """The same note a fifth (702 cents) higher is loud and voiced, but does not hold the pitch."""
    real, pitch, voiced = note
    fifth = synthetic_note(440.0 * 1.5, RATE)[SEAM : SEAM + CONT]
    run = score_run(fifth, real, pitch, voiced, RATE)
    assert min(run["retention"]) > 0.3
    assert run["voiced"] > 0.5
    assert not run["crepe hold"] and not run["yin hold"]


def test_level_error_penalises_a_freeze_as_much_as_a_fade():
    """|20 log10 retention| over the windows: 0 dB at the real level, 20 dB at 10x louder or 10x
    quieter, 60 dB (the floor) for silence; a window where the real one is silent (NaN) is skipped."""
    from benchmarks.continuation import level_error_db

    ret = np.array([[1.0] * 4, [10.0] * 4, [0.1] * 4, [0.0] * 4, [np.nan, 10.0, 0.1, 10.0]])
    assert level_error_db(ret) == pytest.approx([0.0, 20.0, 20.0, 60.0, 20.0])
    runs = [{"retention": list(r), "voiced prompt": False, "crepe hold": False, "yin hold": False, "voiced": 0.0,
             "real voiced": 0.0, "centroid ratio": 1.0} for r in ret[:3]]
    assert summarise(runs)["level error dB"] == pytest.approx(20.0)


def test_seed_echo_is_set_per_sampler_set_and_seed_and_summarised():
    """Runs of one (sampler, prompt set, seed) are compared with each other only: two copies of one
    waveform echo 1 and a third, unrelated run near 0 makes the median (1, ~0) 0.5-ish; a run alone
    under its key is NaN and left out of the row's median; results saved before the measure have
    no key and give NaN."""
    from benchmarks.continuation import ECHO_COLUMN, add_seed_echo

    rng = np.random.default_rng(1)
    y = rng.standard_normal(CONT)
    made = [(("lambda", "ref", 0), {}, y), (("lambda", "ref", 0), {}, 0.5 * y),
            (("lambda", "ref", 0), {}, rng.standard_normal(CONT)), (("lambda", "ref", 1), {}, y)]
    add_seed_echo(made, RATE)
    echo = [scores["seed echo"] for _, scores, _ in made]
    assert echo[0] == pytest.approx(echo[1]) and 0.45 < echo[0] < 0.55 and abs(echo[2]) < 0.05
    assert np.isnan(echo[3])
    base = {"retention": [1.0] * 4, "voiced prompt": False, "crepe hold": False, "yin hold": False, "voiced": 0.0,
            "real voiced": 0.0, "centroid ratio": 1.0}
    assert summarise([{**base, **s} for _, s, _ in made])[ECHO_COLUMN] == pytest.approx(echo[0])
    assert np.isnan(summarise([base])[ECHO_COLUMN])


def test_rescore_recomputes_rows_from_saved_runs(tmp_path, capsys):
    """--rescore rebuilds a saved result's rows from its runs, with today's columns and the stored
    cost, for one result or several under names; a file without runs is one error, not a traceback."""
    from benchmarks import continuation

    run = {"sampler": "lambda", "prompts": "reference clips", "prompt": "c", "seed": 0, "retention": [2.0] * 4,
           "voiced prompt": True, "crepe hold": True, "yin hold": False, "voiced": 0.5, "real voiced": 0.5,
           "centroid ratio": 1.0}
    saved = {"rows": [{"sampler": "lambda", "prompts": "reference clips", "wall s per new s": 7.0}], "runs": [run]}
    row = continuation.rescore(saved)[0]
    assert row["level error dB"] == pytest.approx(20 * np.log10(2.0)) and row["wall s per new s"] == 7.0
    assert row["retention 0.5-1 s"] == 2.0 and row["pitch hold CREPE"] == 1.0
    (tmp_path / "one.json").write_text(json.dumps(saved))
    (tmp_path / "two.json").write_text(json.dumps({"a": saved, "b": saved}))
    continuation.main(["--rescore", str(tmp_path / "one.json"), str(tmp_path / "two.json")])
    out = capsys.readouterr().out
    assert out.count("level error dB") == 3 and "two.json [b]" in out
    from diffwave.io.errors import UserError

    (tmp_path / "bad.json").write_text(json.dumps({"rows": []}))
    with pytest.raises(UserError, match="no rows and runs"):
        continuation.main(["--rescore", str(tmp_path / "bad.json")])


def test_pool_puts_seeds_run_apart_into_one_table(tmp_path, capsys):
    """--rescore --pool: two files of one setting give one row over both files' runs (medians and
    pitch-hold fractions over all of them, the mean cost); files of different steps are refused."""
    from benchmarks import continuation
    from diffwave.io.errors import UserError

    def saved(seed, ret, hold, cost, steps=50):
        run = {"sampler": "lambda", "prompts": "reference clips", "prompt": "c", "seed": seed, "retention": [ret] * 4,
               "voiced prompt": True, "crepe hold": hold, "yin hold": hold, "voiced": 0.5, "real voiced": 0.5,
               "centroid ratio": 1.0}
        return {"rows": [{"sampler": "lambda", "prompts": "reference clips", "wall s per new s": cost}],
                "runs": [run], "steps": steps, "seeds": 1}

    for name, data in {"s0": saved(0, 0.5, True, 6.0), "s1": saved(1, 1.0, False, 8.0),
                       "other": saved(1, 1.0, False, 8.0, steps=20)}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    row = continuation.rescore(continuation.pool([saved(0, 0.5, True, 6.0), saved(1, 1.0, False, 8.0)], ["a", "b"]))
    assert len(row) == 1 and row[0]["pitch hold CREPE"] == 0.5 and row[0]["wall s per new s"] == 7.0
    assert row[0]["retention 0-0.1 s"] == pytest.approx(0.75) and row[0]["voiced runs"] == "2/2"
    continuation.main(["--rescore", str(tmp_path / "s0.json"), str(tmp_path / "s1.json"), "--pool"])
    assert "2 results pooled" in capsys.readouterr().out
    with pytest.raises(UserError, match="steps is 20, not 50"):
        continuation.main(["--rescore", str(tmp_path / "s0.json"), str(tmp_path / "other.json"), "--pool"])
    older = saved(1, 1.0, False, 8.0)  # saved before guides: no guide key
    assert len(continuation.pool([{**saved(0, 0.5, True, 6.0), "guide": "none"}, older], ["a", "b"])["runs"]) == 2
    with pytest.raises(UserError, match="--pool pools the files given to --rescore"):
        continuation.main(["--pool"])
    with pytest.raises(UserError, match="guide is 'none', not 'lpc'"):
        continuation.pool([{**saved(0, 0.5, True, 6.0), "guide": "lpc"}, older], ["a", "b"])


def test_continuation_script_smoke(tmp_path):
    """benchmarks.continuation --tiny --quick writes its table, JSON and energy plot."""
    from benchmarks import continuation

    continuation.main(["--tiny", "--quick", "--steps", "3", "--samplers", "lambda,naive", "--precision", "bf16",
                       "--out", str(tmp_path / "c")])
    data = json.loads((tmp_path / "c" / "continuation.json").read_text())
    assert {(r["sampler"], r["prompts"]) for r in data["rows"]} == {
        (s, g) for s in ("lambda", "naive") for g in ("reference clips", "synthetic notes")}
    assert set(data["envelopes"]) == {"real", "lambda", "naive"}
    assert (tmp_path / "c" / "energy.png").stat().st_size > 1000
    assert "retention 0.25-0.5 s" in (tmp_path / "c.md").read_text() and "; bf16; " in (tmp_path / "c.md").read_text()
    assert data["precision"] == "bf16"
    assert all(-1.0 <= r["seed echo"] <= 1.0 for r in data["runs"])  # 4 clips or 3 notes share each seed


def test_context_snr_rows_for_a_mixed_level_model():
    """One row per level and context mode, a finite median SNR per window."""
    import math
    from dataclasses import replace

    from benchmarks.continuation import CONTEXT_TS, context_snr
    from tests.conftest import TINY, piano_like, tiny_model

    rows = context_snr(tiny_model(config=replace(TINY, mixed_levels=True, num_steps=200)), [piano_like(6.0, 8000)] * 2)
    assert [(r["t"], r["context"]) for r in rows] == [(t, m) for t in CONTEXT_TS for m in ("same level", "clean context")]
    assert all(math.isfinite(v) for r in rows for k, v in r.items() if k.startswith("x0-SNR"))


def test_prompt_sets_keep_one_set_or_both():
    from benchmarks.continuation import SYNTH_NOTES, prompts

    assert [g for g, _, _ in prompts(RATE, 2, "reference")] == ["reference clips"] * 2
    assert [n for _, n, _ in prompts(RATE, 2, "synthetic")] == [n for n, _ in SYNTH_NOTES]
    assert len(prompts(RATE, 2)) == 2 + len(SYNTH_NOTES)


def test_steady_sines_are_their_own_set_and_score_as_held():
    """`sines` is not part of `all`; each steady sine is voiced at its pitch across the seam,
    and a sine a fifth away fails pitch hold."""
    from benchmarks.continuation import SYNTH_NOTES, prompts, steady_sine

    sines = prompts(RATE, 2, "sines")
    assert [g for g, _, _ in sines] == ["steady sines"] * len(SYNTH_NOTES)
    assert all(g != "steady sines" for g, _, _ in prompts(RATE, 2))
    for (_, _, audio), (_, f0) in zip(sines, SYNTH_NOTES):
        real = audio[SEAM : SEAM + CONT]
        pitch, voiced = pitch_window(real, RATE)
        assert pitch.voiced and abs(1200 * np.log2(pitch.crepe_hz / f0)) < 25
        run = score_run(real, real, pitch, voiced, RATE)
        assert run["crepe hold"] and run["yin hold"]
    real = steady_sine(440.0, RATE)[SEAM : SEAM + CONT]
    fifth = steady_sine(660.0, RATE)[SEAM : SEAM + CONT]
    run = score_run(fifth, real, *pitch_window(real, RATE), RATE)
    assert run["retention"] == pytest.approx([1.0] * len(WINDOWS), rel=0.02)
    assert not run["crepe hold"] and not run["yin hold"]


def test_the_guide_alone_continues_the_synthetic_notes():
    """The linear-prediction guess, scored by the yardstick with no model: the synthetic notes are
    decaying partials, so it keeps their level and holds their pitch (measured 0.99-1.0 and 3 of 3)."""
    from benchmarks.guide import guide_alone

    row = guide_alone(16000, "synthetic")["rows"][0]
    assert row["prompts"] == "synthetic notes" and row["pitch hold CREPE"] == 1.0
    assert all(0.9 < row[f"retention {a:g}-{b:g} s"] < 1.1 for a, b in WINDOWS)


def test_guide_script_smoke(tmp_path):
    """benchmarks.guide --tiny --quick writes its table, JSON and energy plot, a row per guide."""
    from benchmarks import guide

    guide.main(["--tiny", "--quick", "--steps", "4", "--guides", "lpc,match", "--strengths", "0.5", "--no-unguided",
                "--bridges", "0-0.25",
                "--out", str(tmp_path / "g")])
    data = json.loads((tmp_path / "g" / "guide.json").read_text())
    assert [r["sampler"] for r in data["rows"]][::2] == ["lpc alone", "match alone", "match alone, bridge 0-0.25 s",
                                                         "lambda, lpc, strength 0.5", "lambda, match, strength 0.5"]
    assert set(data["pitch across the seam"]) == {"voiced prompts", "same pitch across the seam"}
    assert (tmp_path / "g" / "energy.png").stat().st_size > 1000
    assert "The real seam:" in (tmp_path / "g.md").read_text()
