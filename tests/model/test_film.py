import torch

from sheetsync.model.film import FiLM


def test_zero_gamma_and_beta_give_zero_and_unit_gamma_gives_identity():
    film = FiLM(6, 3)
    x, z = torch.randn(2, 3, 4, 5), torch.randn(2, 6)
    for layer in (film.gamma, film.beta):
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    assert torch.equal(film(x, z), torch.zeros_like(x))
    torch.nn.init.ones_(film.gamma.bias)
    torch.testing.assert_close(film(x, z), x)

def test_modulation_is_per_channel_and_per_sample():
    film = FiLM(2, 3)
    with torch.no_grad():
        film.gamma.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [1, 1]]))
        film.gamma.bias.zero_()
        film.beta.weight.zero_()
        film.beta.bias.copy_(torch.tensor([0.0, 1, 2]))
    x, z = torch.ones(2, 3, 2, 2), torch.tensor([[2.0, 3], [0, 1]])
    gamma = torch.tensor([[2.0, 3, 5], [0, 1, 1]])
    expected = gamma[:, :, None, None] + torch.tensor([0.0, 1, 2])[None, :, None, None]
    torch.testing.assert_close(film(x, z), expected.expand(2, 3, 2, 2))
