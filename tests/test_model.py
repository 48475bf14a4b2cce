"""DiffWave network: shapes, receptive field, fractional step embedding."""

import torch

from diffwave.config import ModelConfig
from diffwave.model import DiffWave, step_embedding_table

from .conftest import tiny_model


def test_output_shape(tiny):
    """The network maps [B, L] audio and [B] steps to a [B, L] epsilon estimate."""
    x = torch.randn(3, 257)
    assert tiny(x, torch.tensor([0, 5, 19])).shape == (3, 257)


def test_receptive_field_matches_impulse_response():
    """The computed receptive field equals the brute-force extent of input influence."""
    config = ModelConfig(sample_rate=8000, residual_channels=6, residual_layers=5, dilation_cycle=3, num_steps=10)
    model = tiny_model(seed=3, config=config).double()
    length, centre = 301, 150
    influence = torch.zeros(length, dtype=torch.float64)
    for trial in range(8):  # union over inputs: one input can zero an edge path through a ReLU
        x = torch.randn(1, length, dtype=torch.float64, generator=torch.Generator().manual_seed(trial), requires_grad=True)
        model(x, torch.tensor([4]))[0, centre].backward()
        influence += x.grad[0].abs()
    touched = (influence > 0).nonzero().flatten()
    measured = int(touched.max() - touched.min()) + 1
    assert measured == model.receptive_field == 1 + 2 * (1 + 2 + 4 + 1 + 2)
    assert model.receptive_radius == (model.receptive_field - 1) // 2


def test_paper_receptive_field():
    """C64/L30 with cycle 10 sees 6139 samples, as in the method notes."""
    assert DiffWave(ModelConfig()).receptive_field == 6139


def test_fractional_embedding_interpolates_rows(tiny):
    """A fractional step's table row is the linear interpolation of its neighbours."""
    table = step_embedding_table(20)
    emb = tiny.diffusion_embedding.lookup(torch.tensor([3.25, 7.0, 0.0]))
    assert torch.allclose(emb[0], 0.75 * table[3] + 0.25 * table[4], atol=1e-6)
    assert torch.allclose(emb[1], table[7])
    assert torch.allclose(emb[2], table[0])
    ints = tiny.diffusion_embedding(torch.tensor([7]))
    floats = tiny.diffusion_embedding(torch.tensor([7.0]))
    assert torch.allclose(ints, floats)
