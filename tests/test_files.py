"""extend_file: the file-to-file API the CLI is built on."""

import numpy as np
import pytest
import soundfile as sf

from diffwave.io.errors import UserError
from extend import Extender
from extend.files import default_output, extend_file

from .conftest import piano_like, tiny_model

FAST = dict(steps=3, new=0.1, context=0.3)


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.flac"
    sf.write(path, piano_like(0.4, 8000), 8000, subtype="PCM_24")
    return path


def test_extend_file_writes_the_default_name_keeping_the_samples(song):
    """<stem>_extended.wav beside the input, PCM_24 kept, prefix bit-exact; only_new writes only the new part."""
    frames = []
    path = extend_file(song, 0.2, model=tiny_model(), on_frame=lambda i, n, c: frames.append((i, n)), **FAST)
    assert path == default_output(song) == song.with_name("song_extended.wav")
    a, _ = sf.read(song, dtype="int32")
    b, _ = sf.read(path, dtype="int32")
    assert sf.info(str(path)).subtype == "PCM_24" and np.array_equal(a, b[: len(a)]) and len(b) == len(a) + 1600
    assert frames == [(0, 2), (1, 2)]
    ex = Extender(tiny_model())  # a loaded model is reused across files
    only = extend_file(song, 0.2, out=song.with_name("new.wav"), model=ex, only_new=True, **FAST)
    assert sf.info(str(only)).frames == 1600


def test_extend_file_refuses_before_any_compute(song, tmp_path):
    """Existing output, the input itself, a bad sampler: one UserError each, on_frame never called, nothing written."""
    called = []
    tiny = tiny_model()
    existing = tmp_path / "taken.wav"
    existing.write_bytes(b"mine")
    cases = [(dict(out=existing), "output file exists"), (dict(out=song), "overwrite the input"),
             (dict(sampler="nope"), "unknown sampler"), (dict(sampler="forcing"), "--mixed-levels"),
             (dict(out=tmp_path / "x.mp3"), "cannot hold the input.s PCM_24 samples")]
    for extra, message in cases:
        before = sorted(tmp_path.iterdir())
        with pytest.raises(UserError, match=message):
            extend_file(song, 0.2, model=tiny, on_frame=lambda *a: called.append(a), **{**FAST, **extra})
        assert sorted(tmp_path.iterdir()) == before
    assert existing.read_bytes() == b"mine" and not called
