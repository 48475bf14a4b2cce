"""benchmarks.common: the model list that every multi-model benchmark parses."""

import pytest

from benchmarks.common import TINY, pick_models
from diffwave.checkpoint import save_model
from diffwave.io.errors import UserError
from diffwave.model import DiffWave


def test_pick_models_labels_keywords_stems_and_label_prefixes(tmp_path):
    """Keywords keep their name, files take their stem, LABEL= overrides; order is kept."""
    path = tmp_path / "run-a.safetensors"
    save_model(path, DiffWave(TINY))
    models = pick_models(f"tiny, {path},mine={path}")
    assert list(models) == ["tiny", "run-a", "mine"]
    assert all(m.config == TINY for m in models.values())
    assert not any(m.training for m in models.values())


def test_pick_models_rejects_twice_the_same_label_and_an_empty_list(tmp_path):
    path = tmp_path / "a.safetensors"
    save_model(path, DiffWave(TINY))
    with pytest.raises(UserError, match="'a' is given twice"):
        pick_models(f"{path},{path}")
    with pytest.raises(UserError, match="no model given"):
        pick_models(" , ")


def test_pick_models_missing_file_is_a_user_error_naming_it(tmp_path):
    """A bad path fails up front, as one UserError that names it."""
    with pytest.raises(UserError, match="nope.safetensors"):
        pick_models(f"tiny,{tmp_path / 'nope.safetensors'}")
