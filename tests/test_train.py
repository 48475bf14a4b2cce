"""Training: the loss falls, resume is exact, the CLI leaves a resumable run folder."""

import csv
import math

import pytest
import torch

from diffwave.checkpoint import load_model, read_metadata
from diffwave.cli import app
from diffwave.io.cli_util import run_app
from diffwave.io.errors import UserError
from diffwave.training.config import TrainConfig
from diffwave.training.loop import train
from diffwave.training.state import load_state
from diffwave.training.statefile import STATE_FILE

from .conftest import TINY

CPU = torch.device("cpu")


def _cfg(**kw):
    base = dict(batch_size=4, crop_seconds=0.25, learning_rate=3e-3, max_steps=10, save_every=5, log_every=1, seed=1)
    base.update(kw)
    return TrainConfig(**base)


def test_training_lowers_the_loss(wav_dir, tmp_path):
    """Mean loss over the last steps of a short run is below that of the first steps."""
    losses = []
    train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=80, save_every=80), CPU,
          on_step=lambda step, loss, rate: losses.append(loss))
    assert len(losses) == 80
    assert sum(losses[-15:]) / 15 < 0.8 * sum(losses[:15]) / 15


def test_resume_is_exact(wav_dir, tmp_path):
    """20 steps straight equals 10 steps, a stop, and a resume for 10 more."""
    straight = train(wav_dir, tmp_path / "a", TINY, _cfg(max_steps=20), CPU)
    train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=10), CPU)
    resumed = train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=20), CPU)
    assert resumed.step == straight.step == 20
    for (k, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
    for a, b in zip(straight.ema.parameters(), resumed.ema.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    state, config, _ = load_state(tmp_path / "b", CPU)
    assert state.step == 20 and config == TINY
    assert state.optimizer.state_dict()["state"][0]["exp_avg"].abs().sum() > 0


def test_resume_refuses_a_different_config(wav_dir, tmp_path):
    """A run folder is never silently continued with other options."""
    train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=2), CPU)
    with pytest.raises(UserError, match="different training options"):
        train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=4, learning_rate=1e-2), CPU)


def test_a_new_run_never_writes_into_a_folder_with_other_files(wav_dir, tmp_path):
    """--out pointing at a folder of the user's (here with a log.csv) is refused, untouched."""
    mine = tmp_path / "notes" / "log.csv"
    mine.parent.mkdir()
    mine.write_text("my,own\n1,2\n")
    with pytest.raises(UserError, match="not empty"):
        train(wav_dir, mine.parent, TINY, _cfg(), CPU)
    assert mine.read_text() == "my,own\n1,2\n" and len(list(mine.parent.iterdir())) == 1


def test_nan_loss_stops_with_a_clear_message(wav_dir, tmp_path, monkeypatch):
    """A diverging run stops with a UserError naming the loss, not a traceback."""
    import diffwave.training.loop as tr

    created = {}
    original = tr.new_state

    def capture(*args, **kwargs):
        created["state"] = original(*args, **kwargs)
        return created["state"]

    def poison(step, loss, rate):  # after step 1, make the weights NaN
        for p in created["state"].model.parameters():
            p.data.fill_(float("nan"))

    monkeypatch.setattr(tr, "new_state", capture)
    with pytest.raises(UserError, match="loss became nan at step 1"):
        train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=3), CPU, on_step=poison)


def test_cli_train_then_export_then_sample(wav_dir, tmp_path, capsys):
    """The CLI trains (writing state, CSV log, loss plot), exports and samples."""
    run = tmp_path / "run"
    args = ["train", str(wav_dir), "--out", str(run), "--sample-rate", "8000", "--channels", "4", "--layers", "4",
            "--dilation-cycle", "2", "--max-steps", "6", "--save-every", "3", "--crop-seconds", "0.25",
            "--batch-size", "2", "--device", "cpu"]
    assert run_app(app, args) == 0
    assert (run / STATE_FILE).exists() and (run / "loss.png").exists()
    rows = list(csv.DictReader(open(run / "log.csv")))
    assert [int(r["step"]) for r in rows][-1] == 6
    args[args.index("6")] = "8"  # same command, longer: resumes
    assert run_app(app, args) == 0
    assert load_state(run, CPU)[0].step == 8
    model = tmp_path / "m.safetensors"
    assert run_app(app, ["export", str(run), "--out", str(model)]) == 0
    exported = model.read_bytes()
    assert run_app(app, ["export", str(run), "--out", str(model)]) == 1  # an earlier export is kept
    assert "exists" in capsys.readouterr().err and model.read_bytes() == exported
    assert run_app(app, ["export", str(run), "--out", str(model), "--force"]) == 0
    raw = tmp_path / "raw.safetensors"  # the optimiser's weights, not the EMA, and the file says so
    assert run_app(app, ["export", str(run), "--out", str(raw), "--raw"]) == 0
    state = load_state(run, CPU)[0]
    ema_file, raw_file = load_model(model), load_model(raw)
    assert all(torch.equal(a, b) for a, b in zip(raw_file.state_dict().values(), state.model.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(ema_file.state_dict().values(), state.ema.state_dict().values()))
    assert read_metadata(raw)["weights"] == "raw" and read_metadata(model)["weights"] == "ema"
    out = tmp_path / "s.wav"
    assert run_app(app, ["sample", "--model", str(model), "--seconds", "0.1", "--steps", "5", "--out", str(out), "--device", "cpu"]) == 0
    import soundfile as sf

    info = sf.info(str(out))
    assert info.samplerate == 8000 and info.frames == 800
    assert run_app(app, ["sample", "--model", str(model), "--seconds", "0.1", "--out", str(out)]) == 1  # exists
    assert "exists" in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_ddp_two_processes(wav_dir, tmp_path):
    """Under torchrun (2 CPU processes, gloo) training runs with DDP: rank 1's gradients change the result."""
    import os
    import subprocess
    import sys

    common = ["--sample-rate", "8000", "--channels", "4", "--layers", "4", "--dilation-cycle", "2", "--max-steps", "4",
              "--save-every", "4", "--crop-seconds", "0.25", "--batch-size", "2", "--device", "cpu", "--learning-rate", "0.01"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "diffwave",
           "train", str(wav_dir), "--out", str(tmp_path / "ddp"), *common]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert run_app(app, ["train", str(wav_dir), "--out", str(tmp_path / "single"), *common]) == 0
    ddp, _, _ = load_state(tmp_path / "ddp", CPU)
    single, _, _ = load_state(tmp_path / "single", CPU)
    assert ddp.step == single.step == 4
    diff = max((a - b).abs().max().item() for a, b in zip(ddp.model.parameters(), single.model.parameters()))
    assert diff > 1e-6


def test_bf16_autocast_on_cpu_trains_and_resumes_in_fp32(wav_dir, tmp_path):
    """--precision bf16 trains on CPU (finite loss), and the run resumes in fp32 (a runtime choice)."""
    losses = []
    train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=4), CPU, precision="bf16",
          on_step=lambda step, loss, rate: losses.append(loss))
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    assert train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=6), CPU, precision="fp32").step == 6
    with pytest.raises(UserError, match="precision"):
        train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=7), CPU, precision="fp16")


def test_should_stop_saves_and_the_run_resumes_exactly(wav_dir, tmp_path):
    """A run stopped by should_stop after 7 steps is saved there, and resuming to 20 equals 20 straight."""
    straight = train(wav_dir, tmp_path / "a", TINY, _cfg(max_steps=20, save_every=100), CPU)
    calls = []
    stopped = train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=20, save_every=100), CPU,
                    should_stop=lambda: calls.append(1) or len(calls) >= 7)
    assert stopped.step == 7 and load_state(tmp_path / "b", CPU)[0].step == 7
    assert [int(r["step"]) for r in csv.DictReader(open(tmp_path / "b" / "log.csv"))][-1] == 7
    resumed = train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=20, save_every=100), CPU)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_cli_minutes_stops_saved_with_a_summary(wav_dir, tmp_path, capsys):
    """--minutes ends a run long before --max-steps: exit 0, state saved, one summary line."""
    run = tmp_path / "run"
    args = ["train", str(wav_dir), "--out", str(run), "--sample-rate", "8000", "--channels", "4", "--layers", "4",
            "--dilation-cycle", "2", "--max-steps", "1000000", "--save-every", "100000", "--crop-seconds", "0.25",
            "--batch-size", "2", "--device", "cpu", "--minutes", "0.02"]
    assert run_app(app, args) == 0
    out = capsys.readouterr().out
    assert "time budget spent" in out
    step = load_state(run, CPU)[0].step
    assert 1 <= step < 1000000 and f"done: step {step} " in out
    assert run_app(app, args[:-1] + ["-1"]) == 1
    assert "--minutes must be a positive number" in capsys.readouterr().err


def test_sigterm_saves_and_exits_cleanly(wav_dir, tmp_path):
    """SIGTERM during training: exit 0, a state at the step reached, no temporary file left."""
    import os
    import signal
    import subprocess
    import sys

    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "diffwave", "train", str(wav_dir), "--out", str(run), "--sample-rate", "8000",
           "--channels", "4", "--layers", "4", "--dilation-cycle", "2", "--max-steps", "1000000", "--save-every",
           "100000", "--crop-seconds", "0.25", "--batch-size", "2", "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    for line in proc.stdout:  # plain progress lines every 50 steps when not on a terminal
        if line.startswith("step 50/"):
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "stopped by SIGTERM" in out
    assert load_state(run, CPU)[0].step >= 50
    assert sorted(p.name for p in run.iterdir()) == ["log.csv", "loss.png", STATE_FILE]


def test_loss_objectives_measure_the_error_in_their_own_space():
    """|eps_hat - eps| times the weight equals |v_hat - v| for "v" and |x0_hat - x0| for "x0"."""
    from diffwave.training.loop import loss_weight

    g = torch.Generator().manual_seed(0)
    abar = torch.rand(6, 1, generator=g) * 0.9 + 0.05
    x0, eps, eps_hat = (torch.randn(6, 50, generator=g) for _ in range(3))
    a, s = abar.sqrt(), (1 - abar).sqrt()
    xt = a * x0 + s * eps
    v_err = (a * eps_hat - s * (xt - s * eps_hat) / a) - (a * eps - s * x0)  # v = sqrt(abar) eps - sqrt(1-abar) x0
    x0_err = (xt - s * eps_hat) / a - x0
    assert torch.allclose((eps_hat - eps).abs() * loss_weight("v", abar), v_err.abs(), atol=1e-4)
    assert torch.allclose((eps_hat - eps).abs() * loss_weight("x0", abar), x0_err.abs(), atol=1e-4)
    assert torch.equal(loss_weight("eps", abar), torch.ones_like(abar))
    with pytest.raises(UserError, match="--objective"):
        _cfg(objective="snr")


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_a_damaged_state_is_one_line_for_resume_and_export(wav_dir, tmp_path, damage):
    """A truncated or 0-byte state.safetensors names the file and what to do, in train and export."""
    from diffwave.training.state import export

    run = tmp_path / "run"
    train(wav_dir, run, TINY, _cfg(max_steps=2, save_every=2), CPU)
    state = run / STATE_FILE
    state.write_bytes(state.read_bytes()[:3000] if damage == "truncated" else b"")
    with pytest.raises(UserError, match="damaged or truncated"):
        train(wav_dir, run, TINY, _cfg(max_steps=4, save_every=2), CPU)
    with pytest.raises(UserError, match="damaged or truncated"):
        export(run, tmp_path / "m.safetensors")


def test_a_partial_last_log_row_is_dropped(wav_dir, tmp_path):
    """A log.csv cut mid-row (here at the saved step) resumes: the partial row is dropped, not parsed."""
    from diffwave.training.runlog import read_rows

    run = tmp_path / "run"
    train(wav_dir, run, TINY, _cfg(max_steps=4, save_every=2, log_every=2), CPU)
    with open(run / "log.csv", "a") as f:
        f.write("4,0.8")
    assert [r["step"] for r in read_rows(run / "log.csv")] == [2.0, 4.0]
    assert train(wav_dir, run, TINY, _cfg(max_steps=6, save_every=2, log_every=2), CPU).step == 6
    assert [r["step"] for r in read_rows(run / "log.csv")] == [2.0, 4.0, 6.0]
    assert "4,0.8\n" not in (run / "log.csv").read_text()


def test_resume_removes_its_own_stale_temporaries_only(wav_dir, tmp_path):
    """Temp states left by a kill -9 during a save are removed on resume; other files are not."""
    run = tmp_path / "run"
    train(wav_dir, run, TINY, _cfg(max_steps=2, save_every=2), CPU)
    stale = run / ".state.k9x2ab.safetensors"
    stale.write_bytes(b"half a state")
    mine = run / ".state-notes.txt"
    mine.write_text("keep")
    train(wav_dir, run, TINY, _cfg(max_steps=4, save_every=2), CPU)
    assert not stale.exists() and mine.read_text() == "keep"


def test_export_never_overwrites_the_runs_own_files(wav_dir, tmp_path, capsys):
    """diffwave export --out RUN/state.safetensors --force is refused; the state is unchanged."""
    run = tmp_path / "run"
    train(wav_dir, run, TINY, _cfg(max_steps=2, save_every=2), CPU)
    before = (run / STATE_FILE).read_bytes()
    assert run_app(app, ["export", str(run), "--out", str(run / STATE_FILE), "--force"]) == 1
    assert "run's own state.safetensors" in capsys.readouterr().err
    assert (run / STATE_FILE).read_bytes() == before


def test_a_state_in_parts_resumes_exactly_and_replaces_its_old_parts(wav_dir, tmp_path):
    """--state-mb writes parts no larger than the cap; resume from them equals an unsplit run."""
    from diffwave.training.statefile import PART_GLOB

    straight = train(wav_dir, tmp_path / "a", TINY, _cfg(max_steps=8, save_every=4), CPU)
    run = tmp_path / "b"
    train(wav_dir, run, TINY, _cfg(max_steps=4, save_every=4), CPU, state_mb=1.2)
    first = sorted(p.name for p in run.glob(PART_GLOB))
    assert len(first) >= 2 and all(p.stat().st_size <= 1.2 * 2**20 + 4096 for p in run.glob(PART_GLOB))
    resumed = train(wav_dir, run, TINY, _cfg(max_steps=8, save_every=4), CPU, state_mb=1.2)
    second = sorted(p.name for p in run.glob(PART_GLOB))
    assert second and not set(first) & set(second)  # the step-4 parts were removed after the step-8 index
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    next(run.glob(PART_GLOB)).unlink()
    with pytest.raises(UserError, match="which is missing; copy every state.part"):
        load_state(run, CPU)
    with pytest.raises(UserError, match="--state-mb"):
        train(wav_dir, tmp_path / "c", TINY, _cfg(max_steps=2), CPU, state_mb=0.0)


def test_fine_tune_a_model_into_mixed_levels_and_resume_exactly(wav_dir, tmp_path, capsys):
    """--init starts from a model's weights; --mixed-levels trains on level maps; the same command resumes
    exactly, and its export counts the init model's steps with its own; an --init whose architecture
    the options contradict is one line."""
    from dataclasses import replace

    from diffwave.checkpoint import load_model, read_metadata, save_model
    from diffwave.training.state import export

    from .conftest import tiny_model

    start = tmp_path / "start.safetensors"
    save_model(start, tiny_model(), extra={"training_steps": "100"})
    common = ["--init", str(start), "--mixed-levels", "--crop-seconds", "0.25", "--batch-size", "4", "--seed", "3",
              "--save-every", "4", "--device", "cpu"]
    args = ["train", str(wav_dir), "--out", str(tmp_path / "b"), "--max-steps", "4", *common]
    assert run_app(app, args) == 0
    state, config, cfg = load_state(tmp_path / "b", CPU)
    assert config == replace(TINY, mixed_levels=True) and cfg.init == str(start) and state.step == 4
    assert run_app(app, args[:args.index("--max-steps")] + ["--max-steps", "8", *common]) == 0
    assert run_app(app, ["train", str(wav_dir), "--out", str(tmp_path / "a"), "--max-steps", "8", *common]) == 0
    a, b = load_state(tmp_path / "a", CPU)[0], load_state(tmp_path / "b", CPU)[0]
    export(tmp_path / "b", tmp_path / "b.safetensors")
    meta = read_metadata(tmp_path / "b.safetensors")
    assert (meta["training_steps"], meta["run_steps"], b.init_steps) == ("108", "8", 100)
    for (k, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.allclose(x, y, atol=1e-6), k
    moved = sum(float((p.detach() - q).abs().sum()) for p, q in zip(a.model.parameters(), load_model(start).parameters()))
    assert moved > 0
    # the level maps reached the loss: the same run without mixed levels ends elsewhere
    assert run_app(app, ["train", str(wav_dir), "--out", str(tmp_path / "c"), "--max-steps", "8",
                         *[c for c in common if c != "--mixed-levels"]]) == 0
    c = load_state(tmp_path / "c", CPU)[0]
    assert not torch.allclose(a.model.output_projection.weight, c.model.output_projection.weight)
    capsys.readouterr()
    assert run_app(app, ["train", str(wav_dir), "--out", str(tmp_path / "d"), "--channels", "8", *common]) == 1
    err = capsys.readouterr().err
    assert "--init model has residual_channels=4 but the run asks for 8" in err and not (tmp_path / "d").exists()


def test_device_crops_cut_the_same_kind_of_crops_in_one_shot():
    """Every row is a slice of one clip (zero-padded past a short clip's end), clips drawn by length."""
    import numpy as np

    from diffwave.training.data import DeviceCrops, RandomCrops, step_generator

    clips = [np.arange(1, 301, dtype=np.float32), -np.arange(1, 51, dtype=np.float32)]
    crops = DeviceCrops.from_crops(RandomCrops(clips, 64), "cpu")
    rows = crops.batch(400, step_generator(0, 0, 0, "cpu"))
    assert rows.shape == (400, 64)
    long = rows[rows[:, 0] > 0]
    assert len(long) > 300  # 300 of 350 samples belong to the long clip
    assert torch.equal(long - long[:, :1], torch.arange(64.0).expand_as(long))  # contiguous slices
    assert int(long[:, -1].max()) <= 300
    short = rows[rows[:, 0] < 0]
    assert torch.equal(short[:, :50], -torch.arange(1.0, 51.0).expand(len(short), 50)) and not short[:, 50:].any()
    again = crops.batch(400, step_generator(0, 0, 0, "cpu"))
    assert torch.equal(rows, again)


def test_device_data_trains_resumes_exactly_and_logs_the_read_back_loss(wav_dir, tmp_path):
    """The fast path on the CPU: 12 steps straight equal 6 + 6 after a stop; log rows hold the mean loss."""
    fast = dict(device_data=True, log_every=3, save_every=6)
    losses = []
    straight = train(wav_dir, tmp_path / "a", TINY, _cfg(max_steps=12, **fast), CPU,
                     on_step=lambda s, loss, r: losses.append(loss))
    train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=6, **fast), CPU)
    resumed = train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=12, **fast), CPU)
    for (k, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
    rows = list(csv.DictReader(open(tmp_path / "a" / "log.csv")))
    assert [int(r["step"]) for r in rows] == [3, 6, 9, 12]
    assert all(math.isfinite(float(r["loss"])) for r in rows) and all(math.isfinite(v) for v in losses[2:])
    assert all(g["fused"] is True for g in straight.optimizer.param_groups)  # fused Adam on the fast path


@pytest.mark.slow
def test_compiled_network_trains(wav_dir, tmp_path):
    """--compile: the same loop through torch.compile (a runtime choice; the state is the plain model's)."""
    state = train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=2, save_every=2), CPU, compile=True)
    assert state.step == 2 and load_state(tmp_path / "run", CPU)[0].step == 2


def test_a_part_size_below_the_largest_tensor_is_refused_before_anything_is_written(wav_dir, tmp_path):
    """--state-mb smaller than one tensor: one line, and no run folder left behind to block a rerun."""
    with pytest.raises(UserError, match="smaller than the model's largest tensor"):
        train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=2), CPU, state_mb=0.1)
    assert not (tmp_path / "run").exists()


def test_fine_tune_onto_a_zero_terminal_snr_schedule(wav_dir, tmp_path):
    """--terminal-alpha-bar may change an --init model's schedule (it keeps the network's shape and what
    its output means); the run's checkpoints carry the new schedule."""
    from dataclasses import replace

    from diffwave.checkpoint import save_model
    from diffwave.schedule import training_schedule

    from .conftest import tiny_model

    start = tmp_path / "start.safetensors"
    save_model(start, tiny_model())
    args = ["train", str(wav_dir), "--out", str(tmp_path / "run"), "--max-steps", "2", "--init", str(start),
            "--terminal-alpha-bar", "1e-4", "--crop-seconds", "0.25", "--batch-size", "2", "--device", "cpu"]
    assert run_app(app, args) == 0
    config = load_state(tmp_path / "run", CPU)[1]
    assert config == replace(TINY, terminal_alpha_bar=1e-4)
    assert float(training_schedule(config).alpha_bars[-1]) == pytest.approx(1e-4)


def test_fine_tune_to_a_new_sample_rate_keeps_the_weights(wav_dir, tmp_path):
    """--sample-rate may change an --init model's rate: the run starts from its weights (the first
    checkpoint's EMA is one update from them, not a fresh init) and its checkpoints carry the new rate;
    the shape must still match."""
    from dataclasses import replace

    from diffwave.checkpoint import save_model
    from diffwave.training.state import ema_model

    from .conftest import tiny_model

    parent = tiny_model()
    start = tmp_path / "start.safetensors"
    save_model(start, parent)
    args = ["train", str(wav_dir), "--out", str(tmp_path / "run"), "--max-steps", "1", "--init", str(start),
            "--sample-rate", "16000", "--crop-seconds", "0.25", "--batch-size", "2", "--device", "cpu"]
    assert run_app(app, args) == 0
    config = load_state(tmp_path / "run", CPU)[1]
    assert config == replace(TINY, sample_rate=16000)  # TINY runs at 8 kHz
    ema, _ = ema_model(tmp_path / "run")
    for name, p in parent.state_dict().items():  # one Adam step moves a weight by about the rate, 2e-4
        assert torch.allclose(ema.state_dict()[name], p, atol=5e-4), name
    bad = args[:3] + [str(tmp_path / "run2")] + args[4:] + ["--layers", "9"]
    assert run_app(app, bad) == 1


def test_compile_mode_reaches_torch_compile_and_a_bad_one_is_one_line(wav_dir, tmp_path, monkeypatch):
    """compile="reduce-overhead" (CUDA graphs on a GPU) is passed to torch.compile as its mode; an
    unknown mode is refused before a run folder is claimed."""
    seen = []
    monkeypatch.setattr(torch, "compile", lambda net, mode=None: seen.append(mode) or net)
    state = train(wav_dir, tmp_path / "run", TINY, _cfg(max_steps=1, save_every=1), CPU, compile="reduce-overhead")
    assert state.step == 1 and seen == ["reduce-overhead"]
    train(wav_dir, tmp_path / "run2", TINY, _cfg(max_steps=1, save_every=1), CPU, compile=True)
    assert seen == ["reduce-overhead", None]
    with pytest.raises(UserError, match="compile mode must be one of"):
        train(wav_dir, tmp_path / "run3", TINY, _cfg(max_steps=1), CPU, compile="fastest")
    assert not (tmp_path / "run3").exists()


def test_warmup_ramps_the_first_updates_and_resumes_exactly(wav_dir, tmp_path):
    """--warmup-steps 10: Adam's first update (about lr per weight) shrinks to lr / 10; a run stopped inside
    the ramp and resumed ends where the straight run does; a negative ramp is one line."""
    from diffwave.training.state import new_state

    start = new_state(TINY, _cfg(), CPU).model.state_dict()
    moved = {}
    for warmup in (0, 10):
        state = train(wav_dir, tmp_path / f"w{warmup}", TINY, _cfg(max_steps=1, warmup_steps=warmup), CPU)
        moved[warmup] = max(float((p.detach() - start[k]).abs().max()) for k, p in state.model.named_parameters())
    assert moved[0] == pytest.approx(3e-3, rel=0.05) and moved[10] == pytest.approx(3e-4, rel=0.05)
    straight = train(wav_dir, tmp_path / "a", TINY, _cfg(max_steps=8, warmup_steps=6), CPU)
    train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=3, warmup_steps=6), CPU)
    resumed = train(wav_dir, tmp_path / "b", TINY, _cfg(max_steps=8, warmup_steps=6), CPU)
    for (k, x), y in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(x, y), k
    with pytest.raises(UserError, match="--warmup-steps must be 0 or more"):
        _cfg(warmup_steps=-1)


def test_levels_draws_only_that_band_and_a_bad_band_is_one_line(wav_dir, tmp_path, monkeypatch, capsys):
    """--levels 12-15 noises every crop at a level in [12, 15), where the default draws all of [0, T);
    a band that is not LOW < HIGH inside the schedule is one line."""
    import diffwave.training.loop as loop
    from diffwave.schedule import training_schedule

    seen = []
    real = loop.forward_noise
    monkeypatch.setattr(loop, "forward_noise", lambda x0, a, noise: seen.append(a.flatten()) or real(x0, a, noise))
    abar = training_schedule(TINY).alpha_bars.float()
    train(wav_dir, tmp_path / "band", TINY, _cfg(max_steps=20, level_low=12, level_high=15), CPU)
    band = torch.cat(seen)
    assert band.numel() == 80 and band.min() >= abar[14] - 1e-7 and band.max() <= abar[12] + 1e-7
    seen.clear()
    train(wav_dir, tmp_path / "all", TINY, _cfg(max_steps=20), CPU)
    every = torch.cat(seen)
    assert every.max() > abar[12] + 1e-4 and every.min() < abar[14] - 1e-4
    with pytest.raises(UserError, match="outside the schedule"):
        train(wav_dir, tmp_path / "over", TINY, _cfg(max_steps=1, level_low=12, level_high=25), CPU)
    assert not (tmp_path / "over").exists()  # refused before the run folder is claimed
    args = ["train", str(wav_dir), "--out", str(tmp_path / "cli"), "--sample-rate", "8000", "--channels", "4",
            "--layers", "4", "--dilation-cycle", "2", "--max-steps", "1",
            "--crop-seconds", "0.25", "--batch-size", "2", "--device", "cpu"]
    for bad, message in (("15-12", "--levels must be LOW-HIGH with 0 <= LOW < HIGH"), ("x-3", "two integers")):
        assert run_app(app, args + ["--levels", bad]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cli").exists()
