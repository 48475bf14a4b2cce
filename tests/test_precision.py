"""bf16 on a CPU without bf16 arithmetic: one warning line, from the library and from both CLIs."""

import pytest
import soundfile as sf
import torch

from diffwave.runtime.precision import emulated_bf16_warning

from .conftest import piano_like, tiny_model

AVX2 = {"architecture": "x86_64", "avx2": True, "avx512_bf16": False, "amx_bf16": False}


@pytest.fixture
def avx2_cpu(monkeypatch):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: dict(AVX2), raising=False)


@pytest.mark.parametrize("flags", [{"avx512_bf16": True}, {"amx_bf16": True}, {"architecture": "aarch64"}])
def test_no_warning_where_bf16_is_native_or_unknown(monkeypatch, flags):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {**AVX2, **flags}, raising=False)
    assert emulated_bf16_warning("bf16", torch.device("cpu")) is None


def test_warning_only_for_bf16_on_an_emulating_cpu(avx2_cpu):
    cpu = torch.device("cpu")
    assert "emulated" in emulated_bf16_warning("bf16", cpu)
    assert emulated_bf16_warning("fp32", cpu) is None and emulated_bf16_warning("auto", cpu) is None
    assert emulated_bf16_warning("bf16", torch.device("cuda")) is None  # the GPU path has its own rule


def test_extend_cli_warns_once_and_still_extends(avx2_cpu, tmp_path, capsys):
    from diffwave.checkpoint import save_model
    from diffwave.io.cli_util import run_app
    from extend.cli import app

    model, song = tmp_path / "tiny.safetensors", tmp_path / "song.wav"
    save_model(model, tiny_model())
    sf.write(song, piano_like(0.4, 8000), 8000)
    args = [song, "-s", "0.2", "--model", model, "--steps", "2", "--new", "0.1", "--context", "0.3",
            "--device", "cpu", "--precision", "bf16"]
    code = run_app(app, [str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 0 and song.with_name("song_extended.wav").exists()
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [
        f"warning: {emulated_bf16_warning('bf16', torch.device('cpu'))}"]


def test_a_refused_extend_request_is_still_one_line(avx2_cpu, tmp_path, capsys):
    """The warning waits until every check has passed."""
    from diffwave.io.cli_util import run_app
    from extend.cli import app

    code = run_app(app, [str(tmp_path / "missing.wav"), "-s", "1", "--precision", "bf16"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and err[0].startswith("error:")


def test_train_cli_warns_at_the_first_step(avx2_cpu, wav_dir, tmp_path, capsys):
    from diffwave.cli import app
    from diffwave.io.cli_util import run_app

    code = run_app(app, ["train", str(wav_dir), "--out", str(tmp_path / "run"), "--channels", "4", "--layers", "2",
                         "--dilation-cycle", "2", "--batch-size", "1", "--crop-seconds", "0.1", "--max-steps", "2",
                         "--save-every", "2", "--precision", "bf16"])
    err = capsys.readouterr().err
    assert code == 0 and err.count("warning: bf16 is emulated") == 1


def test_cpu_bf16_and_the_benchmarks_machine_line(avx2_cpu):
    from benchmarks.common import machine
    from diffwave.runtime.precision import cpu_bf16

    assert cpu_bf16() == "emulated" and "bf16 emulated" in machine()
