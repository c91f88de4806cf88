import copy

import pytest
import torch

from sheetsync.model.conditioning import AudioConditioner, detach_state, reset_state
from sheetsync.model.config import TINY
from sheetsync.model.encoders import ContextEncoder, FrameEncoder
from tests.model.tiny import random_pages, random_windows, tiny_model


def test_paper_context_encoder_shapes():
    encoder = ContextEncoder(TINY.replace(audio_channels=(24, 48, 96, 96), embedding=32))
    assert encoder(torch.rand(3, 78, 40)).shape == (3, 32)
    assert encoder.project[1].in_features == 96 * 4 * 2  # 78x40 pooled four times
    assert isinstance(FrameEncoder(TINY).project[0], torch.nn.Linear)


def test_the_shortcut_feeds_exactly_the_last_frames_to_the_embedding():
    torch.manual_seed(0)
    encoder = ContextEncoder(TINY.replace(shortcut=3))
    assert encoder.shortcut.in_features == 78 * 3
    windows = torch.rand(2, 78, 40)
    changed_early, changed_late = windows.clone(), windows.clone()
    changed_early[:, :, :37] = 0.0
    changed_late[:, :, -1] += 1.0
    with torch.no_grad():
        encoder.convs.requires_grad_(False)
        for parameter in encoder.convs.parameters():
            parameter.zero_()  # the conv path now sees nothing: only the shortcut is left
        torch.testing.assert_close(encoder(changed_early), encoder(windows))
        assert not torch.allclose(encoder(changed_late), encoder(windows))
    assert ContextEncoder(TINY).shortcut is None


def test_windows_are_normalised_per_bin():
    torch.manual_seed(0)
    plain = AudioConditioner(TINY.replace(variant="NTC"))
    normalising = copy.deepcopy(plain)
    mean, std = torch.rand(78), torch.rand(78) + 0.5
    normalising.set_normalisation(mean.numpy(), std.numpy())
    windows = torch.randn(1, 2, 78, 40)
    torch.testing.assert_close(normalising(windows * std[:, None] + mean[:, None])[0], plain(windows)[0])
    with pytest.raises(ValueError, match="78 values"):
        normalising.set_normalisation(torch.zeros(77), torch.ones(78))


def test_state_helpers_for_truncated_backpropagation():
    model = tiny_model().train()
    _, state = model(random_pages(), random_windows(model))
    detached = detach_state(state)
    assert state[0].requires_grad and not any(s.requires_grad for s in detached)
    reset = reset_state(detached, torch.tensor([True, False]))
    assert all(torch.equal(s[:, 0], torch.zeros_like(s[:, 0])) for s in reset)
    assert all(torch.equal(r[:, 1], d[:, 1]) for r, d in zip(reset, detached))
    assert detach_state(None) is None and reset_state(None, torch.tensor([True])) is None


def test_a_reset_stream_behaves_like_a_fresh_start():
    model = tiny_model()
    pages, audio = random_pages(), random_windows(model, steps=6)
    with torch.no_grad():
        _, state = model(pages, audio[:, :3])
        carried, _ = model(pages, audio[:, 3:], reset_state(state, torch.tensor([True, False])))
        fresh, _ = model(pages, audio[:, 3:])
    torch.testing.assert_close(carried[0], fresh[0])
    assert not torch.allclose(carried[1], fresh[1])
