"""retain_freed_memory: repeated large allocations stop page-faulting (glibc only)."""

import platform
import subprocess
import sys

import pytest

CHURN = """
import resource, sys, torch
from diffwave.allocator import retain_freed_memory
if sys.argv[1] == "1":
    assert retain_freed_memory()
def churn(n):  # activation-sized buffers freed out of order, like one network pass
    for _ in range(n):
        a = torch.ones(4_000_000); b = torch.ones(6_000_000); del a; c = torch.ones(2_000_000); del b, c
churn(3)
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn(20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt tunables are glibc's")
def test_retained_buffers_do_not_fault_again():
    faults = {flag: int(subprocess.run([sys.executable, "-c", CHURN, flag], capture_output=True, text=True,
                                       check=True).stdout) for flag in ("0", "1")}
    # 20 rounds touch 960 MB of fresh buffers; once retained, the warm heap is reused as is.
    assert faults["1"] < 500, faults
    assert faults["0"] > 10 * max(faults["1"], 100), faults
