import json

import pytest

from sheetsync.model.config import PAPER, TINY, ModelConfig


def test_paper_defaults():
    assert PAPER == ModelConfig()
    assert PAPER.variant == "CB" and PAPER.unet_channels == (8, 16, 32, 64, 128)
    assert PAPER.audio_channels == (24, 48, 96, 96) and (PAPER.n_bins, PAPER.context) == (78, 40)
    assert (PAPER.embedding, PAPER.hidden, PAPER.page_multiple) == (32, 128, 16)


@pytest.mark.parametrize("config", [PAPER, TINY, TINY.replace(variant="FB"), TINY.replace(variant="NTC"),
                                    TINY.replace(conditioning="match", match_dim=5, match_levels=3)])
def test_round_trip_through_json(config):
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_variant_properties():
    assert (PAPER.frames_in, PAPER.recurrent) == (40, True)
    assert (PAPER.replace(variant="FB").frames_in, PAPER.replace(variant="FB").recurrent) == (1, True)
    assert (PAPER.replace(variant="NTC").frames_in, PAPER.replace(variant="NTC").recurrent) == (40, False)


def test_missing_settings_take_defaults_and_unknown_ones_fail():
    assert ModelConfig.from_dict({"variant": "FB"}) == ModelConfig(variant="FB")
    with pytest.raises(ValueError, match="unknown model settings: colour"):
        ModelConfig.from_dict({"colour": "red"})


@pytest.mark.parametrize("changes, message", [
    ({"variant": "XL"}, "unknown model variant"),
    ({"upsample": "bicubic"}, "unknown upsampling"),
    ({"unet_channels": (8,)}, "two or more"),
    ({"context": 8}, "cannot be pooled"),
    ({"hidden": 0}, "positive"),
    ({"conditioning": "attention"}, "unknown conditioning"),
    ({"match_dim": 0}, "match_dim must be positive"),
    ({"match_levels": 0}, "match_levels must be between 1 and 4"),
    ({"match_levels": 5}, "match_levels must be between 1 and 4"),
    ({"shortcut": 41}, "shortcut must be between 0 and the context"),
])
def test_invalid_settings(changes, message):
    with pytest.raises(ValueError, match=message):
        PAPER.replace(**changes)


def test_frozen():
    with pytest.raises(AttributeError):
        PAPER.hidden = 3
