"""The lambda-schedule sweep: its schedules and its oracle rows."""

import math

import pytest
import torch

from benchmarks.lambda_sweep import markdown, run
from extend.samplers.schedules import lambda_schedule


def test_schedule_exponent_and_last_entry():
    """The sweep's schedules: (2^(i/S) - 1)^p, with the last entry optionally left unforced."""
    i = torch.arange(50, dtype=torch.float64)
    assert torch.allclose(lambda_schedule(50, 2.0)[:-1], ((2.0 ** (i / 50) - 1.0) ** 2)[:-1])
    assert torch.equal(lambda_schedule(50), lambda_schedule(50, 4.0))
    assert lambda_schedule(50, 4.0)[-1] == 1.0
    assert lambda_schedule(50, 4.0, force_last=False)[-1] < 1.0
    assert lambda_schedule(200, 4.0, force_last=False)[100].item() == pytest.approx(0.027, abs=1e-3)
    with pytest.raises(ValueError, match="exponent"):
        lambda_schedule(50, 0.0)


def test_sweep_rows_rank_against_the_exact_floor():
    """A small sweep runs on the oracle; every score is a finite KS in (0, 1], above zero."""
    rows = run(steps=10, count=32, exponents=(1.0, 4.0))
    assert [r["schedule"] for r in rows] == ["p=1", "p=4", "p=4, last not forced to 1", "lambda = 0 (naive)"]
    assert [r["forced last"] for r in rows] == [True, True, False, True]
    for r in rows:
        assert 0.0 < r["KS near"] <= 1.0 and math.isfinite(r["var ratio near"])
    # The last entry cannot change the generated region, so these two rows are identical.
    assert rows[1]["KS near"] == rows[2]["KS near"]
    assert "p=4" in markdown(rows, 10)
