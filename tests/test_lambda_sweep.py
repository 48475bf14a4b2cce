"""The lambda-schedule sweep: its schedules and its oracle rows."""

import math

import torch

from benchmarks.lambda_sweep import markdown, power_schedule, run
from extend.schedules import lambda_schedule


def test_power_schedule_with_exponent_4_is_the_paper_schedule():
    assert torch.allclose(power_schedule(50, 4.0), lambda_schedule(50))
    assert power_schedule(50, 4.0, last_one=False)[-1] < 1.0


def test_sweep_rows_rank_against_the_exact_floor():
    """A small sweep runs on the oracle; every score is a finite KS in (0, 1], above zero."""
    rows = run(steps=10, count=32, exponents=(1.0, 4.0))
    assert [r["schedule"] for r in rows] == ["p=1", "p=4", "p=4, last not forced to 1", "lambda = 0 (naive)"]
    for r in rows:
        assert 0.0 < r["KS near"] <= 1.0 and math.isfinite(r["var ratio near"])
    # The last entry cannot change the generated region, so these two rows are identical.
    assert rows[1]["KS near"] == rows[2]["KS near"]
    assert "p=4" in markdown(rows, 10)
