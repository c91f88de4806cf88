import json

import pytest
import torch

from sheetsync.errors import SheetsyncError
from sheetsync.model import checkpoint
from sheetsync.model.config import TINY, ModelConfig
from sheetsync.model.network import ScoreFollower

torch.manual_seed(0)


def tiny(variant: str = "CB") -> ScoreFollower:
    torch.manual_seed(1)
    return ScoreFollower(ModelConfig(**{**TINY.__dict__, "variant": variant})).eval()


def windows(model, batch=2, steps=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, steps, 78, model.config.frames_in, generator=generator) * 3


@pytest.mark.parametrize("variant", ["CB", "FB", "NTC"])
@pytest.mark.parametrize("size", [(64, 48), (70, 45)])
def test_sequence_output_shapes(variant, size):
    model = tiny(variant)
    logits, state = model(torch.rand(2, 1, *size), windows(model))
    assert logits.shape == (2, 5, 1, *size)
    assert (state is None) == (variant == "NTC")


@pytest.mark.parametrize("variant", ["CB", "FB", "NTC"])
def test_stepping_frame_by_frame_equals_the_sequence(variant):
    model = tiny(variant)
    page = torch.rand(1, 1, 64, 48)
    audio = windows(model, batch=1, steps=6)
    with torch.no_grad():
        sequence, _ = model(page, audio)
    cache, state = model.prepare_page(page[0]), None
    for t in range(audio.shape[1]):
        z, state = model.step(audio[0, t], state)
        torch.testing.assert_close(model.predict(cache, z), torch.sigmoid(sequence[0, t, 0]), atol=1e-5, rtol=1e-4)


def test_state_carries_across_chunks():
    model = tiny()
    page, audio = torch.rand(1, 1, 64, 48), windows(model, batch=1, steps=8)
    with torch.no_grad():
        whole, _ = model(page, audio)
        first, state = model(page, audio[:, :4])
        second, _ = model(page, audio[:, 4:], state)
        fresh, _ = model(page, audio[:, 4:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(fresh, whole[:, 4:], atol=1e-4)


def test_selected_frames_match_the_full_sequence():
    model = tiny()
    page, audio = torch.rand(2, 1, 64, 48), windows(model)
    with torch.no_grad():
        full, _ = model(page, audio)
        some, _ = model(page, audio, frames=torch.tensor([[0, 3], [4, 1]]))
    torch.testing.assert_close(some[0, 1], full[0, 3])
    torch.testing.assert_close(some[1, 0], full[1, 4])


def test_audio_conditions_the_map():
    model = tiny()
    page = torch.rand(1, 1, 64, 48)
    with torch.no_grad():
        a, _ = model(page, windows(model, 1, 1, seed=1))
        b, _ = model(page, windows(model, 1, 1, seed=2))
    assert (a - b).abs().max() > 1e-3


def test_film_starts_as_identity():
    model = tiny()
    film = model.unet.down[0].film
    x = torch.rand(2, film.gamma.out_features, 4, 4)
    torch.testing.assert_close(film(x, torch.zeros(2, film.gamma.in_features)), x)


def test_gradients_reach_every_parameter():
    model = tiny().train()
    logits, _ = model(torch.rand(2, 1, 64, 48), windows(model))
    logits.sigmoid().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_paper_sized_default():
    model = ScoreFollower()
    assert model.config.unet_channels == (8, 16, 32, 64, 128) and model.config.hidden == 128
    assert sum(isinstance(m, torch.nn.LSTM) for m in model.modules()) == 1
    films = [b for b in model.unet.modules() if getattr(b, "film", None) is not None]
    assert len(films) == 7  # blocks B..H


def test_checkpoint_round_trip(tmp_path):
    model = tiny()
    model.audio.set_normalisation(torch.arange(78.0), torch.full((78,), 2.0))
    checkpoint.save(tmp_path / "ck", model, {"training": {"steps": 3}})
    loaded, record = checkpoint.load(tmp_path / "ck" / "model.safetensors")
    assert record["training"] == {"steps": 3} and record["features"]["bins"] == 78
    page, audio = torch.rand(1, 1, 64, 48), windows(model, 1, 3)
    with torch.no_grad():
        torch.testing.assert_close(loaded(page, audio)[0], model(page, audio)[0])
    assert not list((tmp_path / "ck").glob(".*"))  # no temporary files left


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "model.json").unlink(), "no checkpoint"),
    (lambda f: (f / "model.json").write_text("{not json"), "corrupt"),
    (lambda f: (f / "model.json").write_text(json.dumps({**json.loads((f / "model.json").read_text()), "version": 99})),
     "format version 99"),
    (lambda f: (f / "model.safetensors").write_bytes(b"\x00" * 64), "corrupt"),
    (lambda f: (f / "model.json").write_text(json.dumps({**json.loads((f / "model.json").read_text()),
                                                          "model": {**TINY.to_dict(), "hidden": 32}})),
     "do not match"),
    (lambda f: (f / "model.json").write_text(json.dumps({"format": "something else"})), "not a sheetsync checkpoint"),
])
def test_bad_checkpoints_are_clear_errors(tmp_path, damage, message):
    folder = checkpoint.save(tmp_path / "ck", tiny())
    damage(folder)
    with pytest.raises(SheetsyncError, match=message):
        checkpoint.load(folder)
