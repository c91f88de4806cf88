import pytest
import torch
import torch.nn.functional as F

from sheetsync.model.config import TINY
from sheetsync.model.network import ScoreFollower
from sheetsync.model.unet import Block, ConditionedUNet, Up


def test_film_sits_after_the_second_norm_and_before_the_elu():
    torch.manual_seed(0)
    block, x, z = Block(2, 3, z_size=4), torch.randn(1, 2, 6, 6), torch.randn(1, 4)
    plain = block.norm2(block.conv2(F.elu(block.norm1(block.conv1(x)))))
    torch.testing.assert_close(block(x, z), F.elu(block.film(plain, z)))


def test_conditioned_block_gradients_are_exact():
    torch.manual_seed(0)
    block = Block(2, 3, z_size=4).double()
    x, z = torch.randn(2, 2, 5, 6, dtype=torch.double), torch.randn(2, 4, dtype=torch.double)
    assert torch.autograd.gradcheck(lambda x, z: block(x, z), (x.requires_grad_(), z.requires_grad_()))


def test_paper_model_conditions_blocks_b_to_h_only():
    unet = ScoreFollower().unet
    blocks = [unet.first_block, *unet.down, *unet.decode]  # A, B-E, F-I
    assert [b.film is not None for b in blocks] == [False] + [True] * 7 + [False]
    assert [b.conv2.out_channels for b in blocks] == [8, 16, 32, 64, 128, 64, 32, 16, 8]
    assert [up.conv.kernel_size for up in unet.up] == [(1, 1)] * 4


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_up_convolves_before_interpolating_without_changing_the_function(mode):
    torch.manual_seed(0)
    up, x, skip = Up(6, 3, mode), torch.randn(2, 6, 5, 7), torch.randn(2, 3, 10, 14)
    torch.nn.init.normal_(up.conv.bias)
    options = {"align_corners": False} if mode == "bilinear" else {}
    paper_order = up.conv(F.interpolate(x, scale_factor=2, mode=mode, **options)) + skip
    torch.testing.assert_close(up(x, skip), paper_order, atol=1e-5, rtol=1e-5)


def test_block_a_then_the_rest_is_the_whole_unet():
    torch.manual_seed(0)
    unet, pages, z = ConditionedUNet(TINY), torch.rand(2, 1, 32, 16), torch.randn(2, 16)
    assert unet(pages, z).shape == (2, 1, 32, 16)
    torch.testing.assert_close(unet.rest(unet.first(pages), z), unet(pages, z))
