"""Smoke runs of the benchmark scripts with a tiny random model (numbers are not results)."""

import json

import pytest


@pytest.mark.slow
def test_report_smoke(tmp_path):
    """benchmarks.report --tiny --quick writes the Markdown report, JSON and every figure."""
    from benchmarks import report

    out = tmp_path / "benchmarks"
    report.main(["--out", str(out), "--tiny", "--quick"])
    text = (tmp_path / "benchmarks.md").read_text()
    assert "The paper's question" in text and "Exact-posterior oracle" in text
    for name in ("fig2_lambda", "fig3_ks", "fig4_t25", "fig5_t0", "fig6_pitch", "spectrograms", "oracle", "lambda_sweep"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    data = json.loads((out / "compare_samplers.json").read_text())
    assert {r["sampler"] for r in data["rows"]} == {"naive", "lambda", "repaint", "ddim", "guidance"}  # not forcing
    assert data["rows"][0]["NFE per frame"] == 20


@pytest.mark.slow
def test_engine_speed_smoke(tmp_path):
    """benchmarks.engine_speed runs on a tiny model and reports NFE with and without cropping."""
    from benchmarks import engine_speed

    engine_speed.main(["--tiny", "--seconds", "0.5", "--new", "0.25", "--steps", "4", "--contexts", "1", "--seam-clips", "1", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "engine_speed.json").read_text())
    nfe = {(r["sampler"], r["crop"]): r["NFE per frame"] for r in data["rows"]}
    assert nfe[("naive", "yes")] == nfe[("naive", "no")] == 4
    assert nfe[("repaint", "yes")] > 4
    assert {r["seam fade"] for r in data["seam_rows"]} == {"yes", "no"}
    diff = {r["precision"]: r["RMS of (output - fp32 output) / RMS"] for r in data["precision_rows"]}
    assert diff["fp32"] == 0.0 and diff["bf16"] > 0.0  # the fp32 rerun reproduces the cropped lambda row


def test_verdict_ranks_best_first_and_puts_nan_last():
    """The report's plain-language verdict orders samplers by each measure's own direction."""
    from benchmarks.report import verdict

    nan = float("nan")
    cols = ["sampler", "compute s per s", "NFE per frame", "CREPE acc", "CREPE runs", "runs", "seam flux ratio", "FD CREPE",
            "final KS"]
    data = [("lambda", 1.0, 50, nan, 0, 8, 1.2, 10.0, 0.1), ("naive", 1.0, 50, 0.5, 2, 8, 3.0, 5.0, 0.2),
            ("repaint", 8.0, 410, 0.7, 1, 8, 0.9, 7.0, 0.05)]
    text = verdict({"rows": [dict(zip(cols, row)) for row in data]}, {})
    assert "8.0x its compute time" in text
    assert ("best first: repaint (0.7, scored in 1 of 8 runs), naive (0.5, scored in 2 of 8 runs), "
            "lambda (n/a, scored in 0 of 8 runs)") in text
    assert "closer to 1 is better), best first: repaint (0.9), lambda (1.2), naive (3)" in text
    assert "FD CREPE (lower is better), best first: naive (5), repaint (7), lambda (10)" in text


def test_oracle_costs_pareto_and_verdict():
    """The cost-versus-error front keeps exactly the settings nothing beats on both axes, cheapest first."""
    from benchmarks.oracle_costs import pareto, verdict

    rows = [{"layout": "extend", "setting": s, "sampler": s.split()[0], "steps": 50, "cost (passes)": c, "KS near": k,
             "exact KS near": 0.1}
            for s, c, k in [("naive", 50, 0.3), ("lambda", 50, 0.33), ("guidance w=2", 86, 0.2),
                            ("repaint r=10", 410, 0.21), ("repaint r=2", 90, 0.15), ("forcing", 50, 0.11)]]
    front = pareto([r for r in rows if r["sampler"] != "forcing"])
    assert [r["setting"] for r in front] == ["naive", "guidance w=2", "repaint r=2"]
    gap = [dict(r, layout="gap") for r in rows]
    text = verdict(rows + gap)
    assert "naive at 50 steps (KS 0.300, 50 passes), guidance w=2" in text and "forcing scores 0.110" in text


@pytest.mark.slow
def test_repair_smoke(tmp_path):
    """benchmarks.repair scores the raw wrap, the looped wrap and both gap seams on a tiny model."""
    from benchmarks import repair

    repair.main(["--tiny", "--clips", "1", "--steps", "2", "--samplers", "naive", "--out", str(tmp_path / "r")])
    rows = json.loads((tmp_path / "r" / "repair.json").read_text())["rows"]
    assert [r["seam"] for r in rows] == ["loop wrap, raw clip", "loop wrap, looped", "gap, left seam", "gap, right seam"]
    assert (tmp_path / "r.md").read_text().count("| naive |") == 3
    repair.main(["--tiny", "--clips", "1", "--steps", "4", "--samplers", "naive", "--guide", "lpc", "--strength", "0.5",
                 "--out", str(tmp_path / "g"), "--card", str(tmp_path / "card.md"), "--section", "guided"])
    text = (tmp_path / "card.md").read_text()
    assert text.count("| naive + lpc |") == 3 and "guide lpc at strength 0.5" in text and "<!-- guided:end -->" in text


def test_every_sampler_has_its_own_plot_colour():
    """A sampler without a colour drew in the cycle's first, lambda's, so two lines looked like one."""
    from benchmarks.plots import COLORS
    from extend.samplers import SAMPLERS

    assert set(SAMPLERS) <= set(COLORS)
    assert len({COLORS[name] for name in SAMPLERS}) == len(SAMPLERS)
