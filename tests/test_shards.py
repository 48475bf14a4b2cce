"""Compact training shards: size cap, exact piece boundaries, small coding error, training reads them."""

import json

import numpy as np
import pytest
import torch

from diffwave.cli import app
from diffwave.io.audio import load_mono
from diffwave.io.cli_util import run_app
from diffwave.io.errors import UserError
from diffwave.training.config import TrainConfig
from diffwave.training.data import RandomCrops, find_audio
from diffwave.training.loop import train
from diffwave.training.shards import MANIFEST, load_pieces, pack, pack_folder

from .conftest import TINY, piano_like

RATE = 8000


def test_shards_respect_the_size_cap_and_keep_every_piece(wav_dir, tmp_path):
    """Shards stay under --shard-mb; the pieces come back at their lengths, with a small coding error."""
    out = tmp_path / "shards"
    manifest = pack_folder(wav_dir, out, RATE, shard_mb=0.004)  # ~4 KB: several shards for 3.7 s
    files = sorted(out.glob("shard-*.ogg"))
    assert len(files) >= 2 and len(files) == len(manifest["shards"])
    assert all(f.stat().st_size <= 0.004 * 2**20 for f in files)
    originals = [load_mono(p, RATE) for p in find_audio(wav_dir)]
    pieces = load_pieces(out, RATE)
    assert sum(map(len, pieces)) == sum(map(len, originals))
    assert manifest["codec_error_rms"] < 0.1 * manifest["signal_rms"]
    back = np.concatenate(pieces)
    assert np.sqrt(np.mean((back - np.concatenate(originals)) ** 2)) == pytest.approx(manifest["codec_error_rms"], rel=1e-3)


def test_a_piece_larger_than_a_shard_is_split(tmp_path):
    """One long piece is cut into halves until each fits; nothing is lost."""
    audio = piano_like(6.0, RATE)
    manifest = pack([("long", audio)], tmp_path / "s", RATE, shard_mb=0.004)
    names = [p[0] for s in manifest["shards"] for p in s["pieces"]]
    assert len(names) >= 2 and all(n.startswith("long#") for n in names)
    assert sum(map(len, load_pieces(tmp_path / "s", RATE))) == len(audio)


def test_training_reads_a_shard_folder(wav_dir, tmp_path):
    """diffwave train takes a shard folder as DATA_DIR; crops never span two pieces."""
    out = tmp_path / "shards"
    pack_folder(wav_dir, out, RATE, shard_mb=1.0)
    sampler = RandomCrops.from_folder(out, RATE, 400)
    assert len(sampler.clips) == 3
    cfg = TrainConfig(batch_size=2, crop_seconds=0.25, max_steps=2, save_every=2, seed=1)
    assert train(out, tmp_path / "run", TINY, cfg, torch.device("cpu")).step == 2
    with pytest.raises(UserError, match="pack them again with --sample-rate 16000"):
        RandomCrops.from_folder(out, 16000, 400)


def test_repacking_replaces_only_its_own_shards(wav_dir, tmp_path, capsys):
    """A re-pack removes the shards it listed and keeps other files; a foreign folder is refused."""
    out = tmp_path / "shards"
    assert run_app(app, ["shards", str(wav_dir), str(out), "--sample-rate", "8000", "--shard-mb", "0.004"]) == 0
    assert "coding error RMS" in capsys.readouterr().out
    (out / "notes.txt").write_text("mine")
    assert run_app(app, ["shards", str(wav_dir), str(out), "--sample-rate", "8000", "--shard-mb", "1"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "notes.txt", "shard-00000.ogg"])
    assert len(json.loads((out / MANIFEST).read_text())["shards"]) == 1
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x.txt").write_text("keep")
    assert run_app(app, ["shards", str(wav_dir), str(foreign)]) == 1
    assert "not empty" in capsys.readouterr().err and (foreign / "x.txt").read_text() == "keep"
    assert run_app(app, ["shards", str(wav_dir), str(tmp_path / "z"), "--shard-mb", "0"]) == 1
    assert "--shard-mb must be" in capsys.readouterr().err


def test_gpu_kit_trains_from_shards_on_the_cpu_and_refuses_a_lone_compile_mode(wav_dir, tmp_path):
    """training/gpu/train.py (the lent-GPU script, run on the CPU): it trains from shards, saves and exits 0
    at its time budget; --compile-mode without --compile is one line and exit 1."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "training" / "gpu" / "train.py"
    pack_folder(wav_dir, tmp_path / "shards", 16000, shard_mb=1.0)
    small = ["--device", "cpu", "--precision", "fp32", "--channels", "4", "--layers", "4", "--dilation-cycle", "2",
             "--batch-size", "2", "--crop-seconds", "0.1", "--save-every", "5", "--log-every", "1"]
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "shards"), str(tmp_path / "run"),
                          "--minutes", "0.02", *small], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "done: step" in run.stdout and list((tmp_path / "run").glob("state*.safetensors"))
    bad = subprocess.run([sys.executable, str(script), str(tmp_path / "shards"), str(tmp_path / "run2"),
                          "--compile-mode", "reduce-overhead", *small], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and bad.stderr == "error: --compile-mode needs --compile\n"
    assert not (tmp_path / "run2").exists()
