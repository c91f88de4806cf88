import pytest
import torch

from sheetsync.model.network import ScoreFollower
from sheetsync.model.reader import FEATURES
from tests.model.tiny import random_pages, random_windows, tiny_model

VARIANTS = ["CB", "FB", "NTC"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("size", [(32, 32), (37, 21), (7, 5)])
def test_sequence_output_shapes(variant, size):
    model = tiny_model(variant)
    logits, state = model(random_pages(2, *size), random_windows(model, batch=2, steps=5))
    assert logits.shape == (2, 5, 1, *size)
    if variant == "NTC":
        assert state is None
    else:
        assert [s.shape for s in state] == [(1, 2, 16), (1, 2, 16)]


def test_frame_based_model_takes_plain_frames():
    model = tiny_model("FB")
    pages, windows = random_pages(), random_windows(model)
    with torch.no_grad():
        torch.testing.assert_close(model(pages, windows[..., 0])[0], model(pages, windows)[0])


def test_wrong_inputs_are_clear_errors():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"\(B, T, 78, 40\)"):
        model(random_pages(), torch.zeros(2, 5, 78, 39))
    with pytest.raises(ValueError, match=r"expected pages \(N, 1, H, W\)"):
        model(torch.zeros(2, 64, 48), random_windows(model))
    with pytest.raises(ValueError, match="page_index"):
        model(random_pages(3), random_windows(model))


@pytest.mark.parametrize("changes", [{"conditioning": "film"}, {"conditioning": "match"},
                                     {"conditioning": "match", "match_levels": 3},
                                     {"conditioning": "match", "page_path": "notes", "match_dim": FEATURES}],
                         ids=["film", "match", "match-3-levels", "note-reader"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_stepping_frame_by_frame_equals_the_sequence(variant, changes):
    model = tiny_model(variant, **changes)
    page, audio = random_pages(1, 37, 21), random_windows(model, batch=1, steps=6)
    with torch.no_grad():
        sequence, final = model(page, audio)
    cache, state = model.prepare_page(page[0, 0].numpy()), None
    for t in range(audio.shape[1]):
        z, state = model.step(audio[0, t], state)
        torch.testing.assert_close(model.predict(cache, z), torch.sigmoid(sequence[0, t, 0]), atol=1e-5, rtol=1e-4)
    if final is not None:
        torch.testing.assert_close(state, final)


def test_state_carries_across_chunks():
    model = tiny_model()
    page, audio = random_pages(1), random_windows(model, batch=1, steps=8)
    with torch.no_grad():
        whole, _ = model(page, audio)
        first, state = model(page, audio[:, :4])
        second, _ = model(page, audio[:, 4:], state)
        fresh, _ = model(page, audio[:, 4:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-4)
    assert (fresh - whole[:, 4:]).abs().max() > 1e-4


def test_block_a_once_per_page_equals_recomputing_it_for_every_step():
    model = tiny_model()
    pages, windows = random_pages(2, 37, 21), random_windows(model, batch=2, steps=4)
    with torch.no_grad():
        cached, _ = model(pages, windows)
        z, _ = model.audio(windows)
        for b in range(2):
            for t in range(4):
                recomputed = model.unet(model.pad(pages[b:b + 1]), z[b, t][None])[..., :37, :21]
                torch.testing.assert_close(cached[b, t], recomputed[0], atol=1e-6, rtol=1e-5)


def test_page_index_picks_a_page_per_step():
    model = tiny_model()
    stack, windows = random_pages(3), random_windows(model, batch=2, steps=4)
    index = torch.tensor([[0, 0, 1, 1], [2, 2, 2, 0]])
    with torch.no_grad():
        logits, _ = model(stack, windows, page_index=index)
        for b in range(2):
            for t in range(4):
                alone, _ = model(stack[index[b, t]][None], windows[b:b + 1, :t + 1])
                torch.testing.assert_close(logits[b, t], alone[0, t], atol=1e-5, rtol=1e-4)


def test_a_page_for_every_step():
    model = tiny_model()
    stack, windows = random_pages(3), random_windows(model, batch=2, steps=4)
    index, steps = torch.tensor([[0, 1, 1, 2], [2, 2, 0, 0]]), torch.tensor([[1, 3], [0, 2]])
    with torch.no_grad():
        expected, _ = model(stack, windows, page_index=index, steps=steps)
        per_step = stack[index.gather(1, steps)]
        torch.testing.assert_close(model(per_step, windows, steps=steps)[0], expected)
        torch.testing.assert_close(model(stack[index], windows)[0], model(stack, windows, page_index=index)[0])
    with pytest.raises(ValueError, match="pages per step"):
        model(per_step, windows)


def test_selected_steps_match_the_full_sequence():
    model = tiny_model()
    pages, windows = random_pages(), random_windows(model)
    with torch.no_grad():
        full, state_full = model(pages, windows)
        some, state_some = model(pages, windows, steps=torch.tensor([[0, 3], [4, 1]]))
    assert some.shape == (2, 2, 1, 32, 24)
    torch.testing.assert_close(some[0, 1], full[0, 3])
    torch.testing.assert_close(some[1, 0], full[1, 4])
    torch.testing.assert_close(state_some, state_full)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_audio_conditions_the_map(variant):
    model = tiny_model(variant)
    cache = model.prepare_page(random_pages(1)[0])
    z1, _ = model.step(random_windows(model, 1, 1, seed=1)[0, 0])
    z2, _ = model.step(random_windows(model, 1, 1, seed=2)[0, 0])
    assert (model.predict(cache, z1) - model.predict(cache, z2)).abs().max() > 1e-3


def test_several_pages_can_be_scored_with_the_same_z():
    model = tiny_model()
    pages = random_pages(2, seed=3)
    z, _ = model.step(random_windows(model, 1, 1)[0, 0])
    maps = [model.predict(model.prepare_page(p), z) for p in pages]
    assert all(m.shape == (32, 24) and 0 <= m.min() and m.max() <= 1 for m in maps)
    assert (maps[0] - maps[1]).abs().max() > 1e-3


def test_channels_last_gives_the_same_maps():
    model = tiny_model()
    page, audio = random_pages(1, 37, 21), random_windows(model, batch=1, steps=2)
    with torch.no_grad():
        plain, _ = model(page, audio)
    z, _ = model.step(audio[0, 0])
    expected = model.predict(model.prepare_page(page), z)
    model.use_channels_last()
    cache = model.prepare_page(page)
    assert cache.features.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(model.predict(cache, z), expected, atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        torch.testing.assert_close(model(page, audio)[0], plain, atol=1e-5, rtol=1e-4)
    model.use_channels_last(False)
    assert model.unet.first_block.conv2.weight.is_contiguous()


def test_switching_layout_keeps_the_parameters_an_optimiser_holds():
    model = tiny_model().train()
    before = list(model.parameters())
    optimiser = torch.optim.Adam(model.parameters())
    model.use_channels_last()
    assert all(a is b for a, b in zip(before, model.parameters()))
    logits, _ = model(random_pages(), random_windows(model))
    logits.mean().backward()
    optimiser.step()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_reach_every_parameter(variant):
    model = tiny_model(variant).train()
    logits, _ = model(random_pages(), random_windows(model))
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.rand_like(logits)).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def _orthogonal(weight: torch.Tensor) -> bool:
    flat = weight.flatten(1)
    small = flat if flat.shape[0] <= flat.shape[1] else flat.T
    return torch.allclose(small @ small.T, torch.eye(small.shape[0]), atol=1e-4)


def test_paper_initialisation():
    model = ScoreFollower()
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            assert _orthogonal(module.weight) and not module.bias.any(), module
        elif isinstance(module, torch.nn.LSTM):
            assert (module.input_size, module.hidden_size, module.num_layers) == (32, 128, 1)
            assert _orthogonal(module.weight_ih_l0) and _orthogonal(module.weight_hh_l0)
            assert not module.bias_ih_l0.any() and not module.bias_hh_l0.any()
        elif isinstance(module, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
            assert module.weight.eq(1).all() and not module.bias.any()
    assert sum(isinstance(m, torch.nn.LSTM) for m in model.modules()) == 1


def test_a_few_adam_steps_fit_a_fixed_target():
    model = tiny_model().train()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    pages, windows = random_pages(), random_windows(model, steps=4)
    target = torch.zeros(2, 4, 1, 32, 24)
    target[..., 10:14, 5:9] = 1
    losses = []
    for _ in range(25):
        logits, _ = model(pages, windows)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_output_prior_sets_the_starting_probability():
    from sheetsync.model.config import TINY

    model = ScoreFollower(TINY.replace(output_prior=0.02))
    assert torch.sigmoid(model.unet.out.bias).item() == pytest.approx(0.02)
    assert ScoreFollower(TINY).unet.out.bias.item() == 0.0  # the paper's zero bias


def test_the_audio_steers_where_the_map_lights_up():
    """End to end through FiLM: two sounds, one page, two targets; the network must learn which is which."""
    from sheetsync.model.config import TINY
    from sheetsync.model.probe import two_sounds

    torch.manual_seed(0)
    result = two_sounds(ScoreFollower(TINY.replace(output_prior=0.02)), 3e-3, 150, 32, 48)
    low, high = result.sound == 0, result.sound == 1
    assert (result.left[low] > 0.5).all() and (result.right[low] < 0.2).all()
    assert (result.right[high] > 0.5).all() and (result.left[high] < 0.2).all()


def test_matched_pages_are_read_once_and_only_the_query_depends_on_the_audio():
    model = tiny_model(conditioning="match", match_dim=6)
    assert all(block.film is None for block in [*model.unet.down, *model.unet.decode])
    page, audio = random_pages(1, 37, 21), random_windows(model, batch=1, steps=2)
    cache = model.prepare_page(page[0, 0])
    assert cache.features.shape[:2] == (1, 6)
    z, _ = model.step(audio[0, 0])
    query = model.query(z)[0]
    expected = torch.einsum("dhw,d->hw", cache.features[0], query[:6]) / 6 ** 0.5 + query[6]
    torch.testing.assert_close(model.predict(cache, z), torch.sigmoid(expected[:37, :21]))


@pytest.mark.parametrize("levels, rank", [(1, 4), (3, 6)])
def test_coarser_levels_lift_the_rank_of_the_match_features(levels, rank):
    """Block I of the tiny U-Net has 4 channels: alone, it cannot give 6 independent features."""
    model = tiny_model(conditioning="match", match_dim=6, match_levels=levels).train()
    features = model.prepare_page(random_pages(1, 64, 48)[0, 0]).features[0].flatten(1)
    singular = torch.linalg.svdvals(features - features.mean(1, keepdim=True))
    assert int((singular > singular[0] * 1e-4).sum()) == rank


@pytest.mark.parametrize("levels", [1, 3])
def test_gradients_reach_every_match_parameter(levels):
    model = tiny_model(conditioning="match", match_levels=levels).train()
    logits, _ = model(random_pages(), random_windows(model))
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.rand_like(logits)).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_matched_maps_follow_the_audio_and_the_page():
    model = tiny_model(conditioning="match")
    pages, audio = random_pages(2, 32, 24), random_windows(model, batch=1, steps=2)
    with torch.no_grad():
        logits, _ = model(pages, audio, page_index=torch.tensor([[0, 1]]))
        same_page, _ = model(pages, audio, page_index=torch.tensor([[0, 0]]))
    torch.testing.assert_close(logits[0, 0], same_page[0, 0])
    assert not torch.allclose(logits[0, 1], same_page[0, 1])  # another page, another map
    assert not torch.allclose(same_page[0, 0], same_page[0, 1])  # other audio, another map


def test_output_prior_sets_the_starting_probability_for_both_conditionings():
    for conditioning in ("film", "match"):
        model = tiny_model(conditioning=conditioning, output_prior=0.02)
        bias = model.query.bias[-1] if conditioning == "match" else model.unet.out.bias[0]
        assert float(torch.sigmoid(bias.detach())) == pytest.approx(0.02)
