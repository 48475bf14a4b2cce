"""retain_freed_memory: repeated network passes stop page-faulting (glibc only)."""

import platform
import subprocess
import sys

import pytest

CHURN = """
import resource, sys, torch
from diffwave.runtime.allocator import retain_freed_memory
from diffwave.config import ModelConfig
from diffwave.model import DiffWave
if sys.argv[1] == "1":
    assert retain_freed_memory()
torch.manual_seed(0)
model = DiffWave(ModelConfig(residual_channels=16, residual_layers=6, dilation_cycle=3)).eval()
x, t = torch.randn(1, int(sys.argv[2])), torch.tensor([10.0])
with torch.no_grad():
    for _ in range(3):  # warm-up: the heap reaches its working size
        model(x, t)
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(int(sys.argv[3])):
        model(x, t)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


@pytest.mark.slow
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt tunables are glibc's")
@pytest.mark.parametrize("length, passes", [(48000, 10), (600000, 3)], ids=["3 MB activations", "38 MB, above the mmap cap"])
def test_retained_buffers_do_not_fault_again(length, passes):
    faults = {flag: int(subprocess.run([sys.executable, "-c", CHURN, flag, str(length), str(passes)], capture_output=True,
                                       text=True, check=True).stdout) for flag in ("0", "1")}
    # glibc's defaults page-fault every activation in again (about 150 k faults for ten small
    # passes, 3 M for three large ones); retained, the warm heap is reused (0 to a few thousand).
    assert faults["1"] * 10 < faults["0"], faults
