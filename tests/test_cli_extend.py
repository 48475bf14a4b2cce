"""The extend CLI: the happy path, and every bad input from the issue, as a user meets it."""

import numpy as np
import pytest
import soundfile as sf

from diffwave.checkpoint import save_model
from diffwave.io.cli_util import run_app
from extend.cli import app

from .conftest import piano_like, tiny_model

FAST = ["--steps", "3", "--new", "0.1", "--context", "0.3", "--device", "cpu"]


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_model(path, tiny_model())
    return path


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, piano_like(0.4, 8000), 8000, subtype="PCM_16")
    return path


def _run(args, capsys):
    code = run_app(app, [str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.err


def _fails(args, capsys, message, folder):
    """Non-zero exit, a one-line error naming the problem, no traceback, no file left behind."""
    before = set(folder.iterdir())
    code, err = _run(args, capsys)
    lines = [l for l in err.strip().splitlines() if l.startswith("error:")]
    assert code != 0
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
    assert set(folder.iterdir()) == before


def test_happy_path_pcm16_round_trip(song, model, capsys):
    """PCM_16 in, PCM_16 out, default name, exact prefix, exact length; --only-new writes only new audio."""
    code, err = _run([song, "--seconds", "0.25", "--model", model, *FAST], capsys)
    assert code == 0, err
    out = song.with_name("song_extended.wav")
    info = sf.info(str(out))
    assert info.subtype == "PCM_16" and info.frames == 3200 + 2000
    a, _ = sf.read(song, dtype="int16")
    b, _ = sf.read(out, dtype="int16")
    assert np.array_equal(a, b[: len(a)])
    only = song.with_name("only.wav")
    assert _run([song, "-s", "0.25", "--model", model, "--only-new", "-o", only, *FAST], capsys)[0] == 0
    c, _ = sf.read(only, dtype="int16")
    assert np.array_equal(c, b[len(a):])


def test_each_sampler_by_name(song, model, capsys, tmp_path):
    """Every sampler an ordinary model runs is reachable from the CLI, each with its knobs."""
    knobs = {"repaint": ["--jump-length", "1", "--resample", "2"], "ddim": ["--eta", "0.5"], "guidance": ["--weight", "1"]}
    for name in ("naive", "lambda", "repaint", "ddim", "guidance"):
        out = tmp_path / f"{name}.wav"
        extra = knobs.get(name, ["--precision", "bf16"])
        code, err = _run([song, "-s", "0.1", "--sampler", name, "--model", model, "-o", out, *FAST, *extra], capsys)
        assert code == 0 and out.exists(), err


def test_forcing_needs_a_model_trained_with_mixed_levels(song, model, capsys, tmp_path):
    """--sampler forcing runs on a mixed-level model and is one line, nothing written, on another."""
    from dataclasses import replace

    from .conftest import TINY

    _fails([song, "-s", "0.1", "--sampler", "forcing", "--model", model, *FAST], capsys,
           "needs a model trained with --mixed-levels", tmp_path)
    mixed = tmp_path / "mixed.safetensors"
    save_model(mixed, tiny_model(config=replace(TINY, mixed_levels=True)))
    out = tmp_path / "forced.wav"
    code, err = _run([song, "-s", "0.1", "--sampler", "forcing", "--model", mixed, "-o", out, *FAST], capsys)
    assert code == 0 and out.exists(), err


def test_seconds_shorter_than_one_sample_is_one_line(song, model, capsys, tmp_path):
    """--seconds 1e-6 is refused in one line by extend and by diffwave sample, with nothing written."""
    from diffwave.cli import app as diffwave_app

    _fails([song, "--seconds", "1e-6", "--model", model, *FAST, "-o", tmp_path / "x.wav"], capsys,
           "shorter than one sample", tmp_path)
    assert run_app(diffwave_app, ["sample", "--model", str(model), "--seconds", "1e-6", "--out", str(tmp_path / "s.wav")]) == 1
    assert "shorter than one sample" in capsys.readouterr().err and not (tmp_path / "s.wav").exists()


def test_an_input_past_the_size_limit_is_refused_before_decoding(model, capsys, tmp_path, monkeypatch):
    """An input with more samples than MAX_INPUT_SAMPLES is refused from its header, in one line."""
    import diffwave.io.audio

    src = _write(tmp_path / "long.wav", np.zeros((4000, 8)), 8000, "PCM_16")
    monkeypatch.setattr(diffwave.io.audio, "MAX_INPUT_SAMPLES", 31_999)
    monkeypatch.setattr(diffwave.io.audio.sf, "read", lambda *a, **k: pytest.fail("decoded a refused input"))
    _fails([src, "-s", "0.1", "--model", model, *FAST, "-o", tmp_path / "o.wav"], capsys, "input is too long", tmp_path)


def test_samples_are_kept_bit_for_bit_or_refused(model, capsys, tmp_path):
    """A float WAV extends to a FLOAT .wav with an exact prefix; a .flac (16/24-bit only) is refused
    before any compute, naming the format that holds the samples."""
    src = _write(tmp_path / "f.wav", (0.9 * piano_like(0.4, 8000)).astype(np.float32) * 1.3, 8000, "FLOAT")
    _fails([src, "-s", "0.1", "--model", model, *FAST, "-o", tmp_path / "out.flac"], capsys,
           "cannot hold the input's FLOAT samples bit for bit; write .wav instead", tmp_path)
    code, err = _run([src, "-s", "0.1", "--model", model, *FAST, "-o", tmp_path / "out.wav"], capsys)
    assert code == 0, err
    assert sf.info(str(tmp_path / "out.wav")).subtype == "FLOAT"
    a, _ = sf.read(src, dtype="float32")
    b, _ = sf.read(tmp_path / "out.wav", dtype="float32")
    assert np.array_equal(a, b[: len(a)])  # values beyond 1 included


def test_fast_schedule_from_the_cli(song, model, capsys, tmp_path):
    """--fast-schedule runs an explicit beta list (fractional training steps); bad lists are one line."""
    base = [song, "-s", "0.1", "--model", model, "--new", "0.1", "--context", "0.3", "--device", "cpu"]
    code, err = _run([*base, "--fast-schedule", "1e-4,1e-3,0.01,0.05", "-o", tmp_path / "f.wav"], capsys)
    assert code == 0 and (tmp_path / "f.wav").exists(), err
    for bad, message in (("0.1,x", "comma-separated numbers"), ("0.1,1.5", "betas must be a list of values in (0, 1)")):
        _fails([*base, "--fast-schedule", bad, "-o", tmp_path / "x.wav"], capsys, message, tmp_path)
    _fails([*base, "--fast-schedule", "0.1", "--steps", "4", "-o", tmp_path / "x.wav"], capsys, "not both", tmp_path)


def test_repaint_defaults_adapt_to_the_step_count(song, model, capsys, tmp_path):
    """--sampler repaint --steps 8 runs with no knobs (j adapts to 8 // 5 = 1); knobs of another sampler are refused."""
    args = [song, "-s", "0.1", "--sampler", "repaint", "--model", model, "--new", "0.1", "--context", "0.3", "--device", "cpu"]
    code, err = _run([*args, "--steps", "8", "-o", tmp_path / "r8.wav"], capsys)
    assert code == 0 and (tmp_path / "r8.wav").exists(), err
    _fails([song, "-s", "0.1", "--model", model, *FAST, "--jump-length", "2", "-o", tmp_path / "x.wav"], capsys,
           "sampler 'lambda' has no option 'jump_length'", tmp_path)
    _fails([*args, "--steps", "8", "--jump-length", "8", "-o", tmp_path / "x.wav"], capsys,
           "repaint needs 1 <= jump_length < steps (8)", tmp_path)


def _write(path, data, rate, subtype=None):
    sf.write(path, data, rate, subtype=subtype)
    return path


@pytest.mark.parametrize("case, message", [
    ("missing", "not found"),
    ("directory", "directory"),
    ("empty", "empty"),
    ("zero_samples", "zero samples"),
    ("garbage", "cannot decode"),
    ("truncated", "truncated"),
    ("nan", "NaN or infinite"),
    ("inf", "NaN or infinite"),
    ("one_hz", "sample rate 1 Hz"),
])
def test_bad_input_files(case, message, tmp_path, model, capsys):
    """Unreadable or invalid audio gives a one-line error and no output file."""
    d = tmp_path / "in"
    d.mkdir()
    path = d / "x.wav"
    if case == "directory":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "zero_samples":
        _write(path, np.zeros(0), 8000)
    elif case == "garbage":
        path.write_bytes(b"this is not audio\x00\x01" * 100)
    elif case == "truncated":
        _write(path, piano_like(1.0, 8000), 8000, "PCM_16")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case in ("nan", "inf"):
        x = piano_like(0.2, 8000).astype(np.float32)
        x[100] = np.nan if case == "nan" else np.inf
        _write(path, x, 8000, "FLOAT")
    elif case == "one_hz":
        _write(path, piano_like(0.2, 8000)[:50], 1, "PCM_16")
    _fails([path, "--seconds", "1", "--model", model, *FAST], capsys, message, d)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_directory_as_input(name, tmp_path, model, capsys, monkeypatch):
    """'.' has no file name to derive the default output from; it is still just a directory."""
    d = tmp_path / "in"
    d.mkdir()
    monkeypatch.chdir(d)
    _fails([name, "--seconds", "1", "--model", model, *FAST], capsys, "directory", d)


@pytest.mark.parametrize("seconds", ["0", "-3", "nan", "3601", "inf"])
def test_bad_seconds(song, model, capsys, seconds, tmp_path):
    """--seconds must be in (0, 3600]."""
    _fails([song, "--seconds", seconds, "--model", model, *FAST], capsys, "--seconds", tmp_path)


@pytest.mark.parametrize("args, message", [
    (["--sampler", "heun"], "unknown sampler 'heun'"),
    (["--sampler", "ddim", "--eta", "2"], "ddim needs 0 <= eta <= 1"),
    (["--sampler", "guidance", "--weight", "-1"], "guidance needs a weight >= 0"),
    (["--sampler", "lambda", "--eta", "0.5"], "sampler 'lambda' has no option 'eta'"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--steps", "many"], "--steps"),
    (["--steps", "0"], "steps must be"),
    (["--precision", "fp16"], "precision must be one of"),
    (["--frobnicate"], "No such option"),
    (["--guide", "oracle"], "unknown guide 'oracle'; choose one of none, lpc, match"),
    (["--strength", "0.5"], "strength below 1 starts from a guess; give a guide (lpc or match)"),
    (["--guide", "lpc", "--strength", "0"], "strength must be a number in (0, 1]"),
])
def test_bad_options(song, model, capsys, args, message, tmp_path):
    """Unknown samplers, option values and options are usage errors on one line."""
    _fails([song, "--seconds", "1", "--model", model, *FAST, *args], capsys, message, tmp_path)


def test_output_problems(song, model, capsys, tmp_path):
    """Output equal to input, a missing folder, a directory, and an existing file are refused."""
    _fails([song, "-s", "1", "--model", model, "-o", song, *FAST], capsys, "overwrite the input", tmp_path)
    _fails([song, "-s", "1", "--model", model, "-o", tmp_path / "nope" / "x.wav", *FAST], capsys, "does not exist", tmp_path)
    _fails([song, "-s", "1", "--model", model, "-o", tmp_path, *FAST], capsys, "directory", tmp_path)
    existing = tmp_path / "keep.wav"
    existing.write_bytes(b"precious")
    _fails([song, "-s", "1", "--model", model, "-o", existing, *FAST], capsys, "exists", tmp_path)
    assert existing.read_bytes() == b"precious"
    _fails([song, "-s", "1", "--model", model, "-o", tmp_path / "x.mp4", *FAST], capsys, "extension", tmp_path)


def test_model_that_is_not_a_model(song, capsys, tmp_path):
    """A text file passed as --model is refused with a one-line error."""
    fake = tmp_path / "fake.safetensors"
    fake.write_text("hello")
    _fails([song, "-s", "1", "--model", fake, *FAST], capsys, "fake.safetensors", tmp_path)


def test_recoverable_inputs_warn_and_succeed(tmp_path, model, capsys):
    """Silence, values beyond +-1, 8 channels and 192 kHz work, with a warning where it matters."""
    cases = {
        "silence.wav": (np.zeros(4000), 8000, "PCM_16", "digital silence"),
        "loud.wav": (2.0 * piano_like(0.3, 8000), 8000, "FLOAT", "beyond +-1"),
        "eight.wav": (np.stack([piano_like(0.3, 8000)] * 8, axis=1), 8000, "PCM_16", "8 channels"),
        "hires.wav": (piano_like(0.3, 192000), 192000, "PCM_24", None),
    }
    for name, (data, rate, subtype, warning) in cases.items():
        path = _write(tmp_path / name, data, rate, subtype)
        out = tmp_path / f"out_{name}"
        code, err = _run([path, "-s", "0.1", "--model", model, "-o", out, *FAST], capsys)
        assert code == 0, err
        if warning:
            assert warning in err
        original, _ = sf.read(path, always_2d=True)
        result, rate_out = sf.read(out, always_2d=True)
        assert rate_out == rate and result.shape[1] == original.shape[1]
        assert len(result) == len(original) + round(0.1 * rate)
        assert np.array_equal(result[: len(original)], original)


@pytest.mark.parametrize("fmt, subtype", [("MP3", None), ("OGG", "VORBIS"), ("FLAC", "PCM_24")])
def test_compressed_and_other_formats(tmp_path, model, capsys, fmt, subtype):
    """MP3, Ogg Vorbis and 24-bit FLAC inputs at 44.1 kHz stereo extend to a valid WAV."""
    path = tmp_path / f"song.{fmt.lower()}"
    sf.write(path, np.stack([piano_like(0.5, 44100)] * 2, axis=1), 44100, format=fmt, subtype=subtype)
    code, err = _run([path, "-s", "0.2", "--model", model, *FAST], capsys)
    assert code == 0, err
    info = sf.info(str(tmp_path / "song_extended.wav"))
    assert info.samplerate == 44100 and info.channels == 2
    assert info.subtype == ("PCM_24" if fmt == "FLAC" else "PCM_16")


@pytest.mark.parametrize("signame, status, word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_signal_leaves_no_file(tmp_path, model, song, signame, status, word):
    """SIGINT or SIGTERM mid-run exits 130/143 with one line, and leaves neither the output nor a temp file."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "partial.wav"
    code = "from extend.cli import main; main()"
    # Small frames: the interrupt lands between short network passes, even on a loaded machine.
    # A shell's background job inherits SIGINT ignored, and Python then keeps ignoring it (as a
    # `nohup extend ... &` should); the child is given the default disposition a terminal gives.
    proc = subprocess.Popen([sys.executable, "-c", code, str(song), "-s", "600", "--model", str(model), "--steps", "5",
                             "--new", "0.02", "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until frames are being generated
        line = proc.stderr.readline()
        if line.startswith("frame"):
            break
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == status
    assert f"error: {word}" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".partial*"))


def test_a_file_that_appears_during_the_run_is_not_replaced(song, model, capsys, tmp_path, monkeypatch):
    """The output name is claimed at the final rename: a file created meanwhile survives, byte for byte."""
    from extend.api import Extender

    out = tmp_path / "late.wav"
    original = Extender.extend

    def extend_then_someone_writes(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        out.write_bytes(b"theirs")
        return result

    monkeypatch.setattr(Extender, "extend", extend_then_someone_writes)
    code, err = _run([song, "-s", "0.1", "--model", model, *FAST, "-o", out], capsys)
    assert code == 1 and "appeared while this ran" in err
    assert out.read_bytes() == b"theirs" and not list(tmp_path.glob(".late*"))


def test_force_never_replaces_a_fifo_or_device(song, model, capsys, tmp_path):
    """--force replaces regular files only: a FIFO named out.wav is refused before any compute."""
    import os

    fifo = tmp_path / "out.wav"
    os.mkfifo(fifo)
    _fails([song, "-s", "0.1", "--model", model, *FAST, "-o", fifo, "--force"], capsys, "not a regular file", tmp_path)
    assert fifo.is_fifo()


def test_output_file_follows_the_umask(song, model, capsys):
    """Atomic writes do not leave the private 0600 mode of a temp file on the user's output."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        assert _run([song, "-s", "0.1", "--model", model, *FAST], capsys)[0] == 0
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(song.with_name("song_extended.wav")).st_mode)
    assert mode == 0o644


def test_gap_from_the_cli(song, model, capsys, tmp_path):
    """--gap fills START-END, keeps every other sample, writes <stem>_inpainted.wav; bad gaps are one line."""
    code, err = _run([song, "--gap", "0.10-0.15", "--gap", "0.3-0.32", "--model", model, *FAST], capsys)
    assert code == 0, err
    out = song.with_name("song_inpainted.wav")
    a, _ = sf.read(song, dtype="int16")
    b, _ = sf.read(out, dtype="int16")
    keep = np.ones(len(a), bool)
    keep[800:1200] = keep[2400:2560] = False
    assert len(a) == len(b) and np.array_equal(a[keep], b[keep]) and not np.array_equal(a[~keep], b[~keep])
    out.unlink()
    for args, message in [(["--gap", "0.1"], "--gap must be START-END"), (["--gap", "0.3-0.9"], "not inside the audio"),
                          (["--gap", "0.1-0.2", "--gap", "0.15-0.25"], "overlap"),
                          (["--gap", "0.1-0.2", "-s", "1"], "not --seconds and --gap"),
                          (["--gap", "0.1-0.2", "--only-new"], "--only-new applies to extension"),
                          ([], "give one of --seconds (extend), --gap (fill) or --loop")]:
        _fails([song, "--model", model, *FAST, *args], capsys, message, tmp_path)


def test_loop_from_the_cli(song, model, capsys, tmp_path):
    """--loop S writes <stem>_loop.wav: same length, the middle untouched, the wrap inpainted."""
    code, err = _run([song, "--loop", "0.1", "--model", model, *FAST], capsys)
    assert code == 0, err
    a, _ = sf.read(song, dtype="int16")
    b, _ = sf.read(song.with_name("song_loop.wav"), dtype="int16")
    assert len(a) == len(b) and np.array_equal(a[400:-400], b[400:-400]) and not np.array_equal(a[:400], b[:400])
    song.with_name("song_loop.wav").unlink()
    _fails([song, "--loop", "0.3", "--model", model, *FAST], capsys, "the loop seam must be", tmp_path)
    code, err = _run([song, "--loop", "0.05", "-s", "0.2", "--model", model, *FAST], capsys)  # a continuation that loops
    assert code == 0, err
    c, _ = sf.read(song.with_name("song_loop.wav"), dtype="int16")
    assert len(c) == len(a) + 1600 and np.array_equal(c[: len(a)], a)
    song.with_name("song_loop.wav").unlink()
    _fails([song, "--loop", "0.1", "--gap", "0.1-0.2", "--model", model, *FAST], capsys, "not --gap and --loop", tmp_path)
    _fails([song, "--loop", "0.1", "-s", "0.2", "--candidates", "2", "--model", model, *FAST], capsys,
           "--candidates applies to extension", tmp_path)


def test_candidates_from_the_cli(song, model, capsys, tmp_path):
    """--candidates 3 writes three ranked files; --candidates with --gap is one line."""
    out = tmp_path / "c.wav"
    code, err = _run([song, "-s", "0.1", "--candidates", "3", "--model", model, "-o", out, *FAST], capsys)
    assert code == 0, err
    for k in (1, 2, 3):
        assert sf.info(str(tmp_path / f"c_{k}.wav")).frames == 3200 + 800
    _fails([song, "--gap", "0.1-0.2", "--candidates", "2", "--model", model, *FAST], capsys,
           "--candidates applies to extension", tmp_path)
    _fails([song, "-s", "0.1", "--candidates", "99", "--model", model, "-o", tmp_path / "d.wav", *FAST], capsys,
           "candidates must be an integer from 1 to 16", tmp_path)


def test_guide_from_the_cli(song, model, capsys, tmp_path):
    """--guide lpc extends from the linear-prediction guess, and fills a gap from the two-sided one;
    --guide match extends from the input's own passages."""
    out = tmp_path / "guided.wav"
    code, err = _run([song, "-s", "0.25", "--model", model, *FAST, "--guide", "lpc", "--strength", "0.5", "-o", out], capsys)
    assert code == 0, err
    a, _ = sf.read(song, dtype="int16")
    b, _ = sf.read(out, dtype="int16")
    assert len(b) == len(a) + 2000 and np.array_equal(a, b[: len(a)])
    code, err = _run([song, "--gap", "0.1-0.2", "--model", model, *FAST, "--guide", "lpc", "-o", tmp_path / "g.wav"], capsys)
    assert code == 0, err
    c, _ = sf.read(tmp_path / "g.wav", dtype="int16")
    assert len(c) == len(a) and np.array_equal(c[:800], a[:800]) and np.array_equal(c[1600:], a[1600:])
    code, err = _run([song, "-s", "0.25", "--model", model, *FAST, "--guide", "match", "-o", tmp_path / "m.wav"], capsys)
    assert code == 0, err
    d, _ = sf.read(tmp_path / "m.wav", dtype="int16")
    assert len(d) == len(a) + 2000 and np.array_equal(a, d[: len(a)])
