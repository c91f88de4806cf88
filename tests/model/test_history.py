"""The "PH" audio path: registers heard at every frame, pooled over lag windows, and a query that asks for them."""
import pytest
import torch

from sheetsync.model.config import HISTORY, HISTORY_COLUMNS, TINY
from sheetsync.model.encoders import FRAME_KERNEL, REGISTER_PRIOR, PitchHistory
from sheetsync.model.network import ScoreFollower
from sheetsync.model.reader import FEATURES, PITCH_BINS
from tests.model.tiny import random_windows, tiny_model

PH = TINY.replace(variant="PH")
PH_NOTES = PH.replace(page_path="notes", conditioning="match", match_dim=FEATURES)


def lags_touched(window_frames: int, frame: int) -> range:
    """Lags (frames back from the window's last) whose register guesses hear `frame` of the window."""
    last = window_frames - 1
    return range(last - frame, last - frame + FRAME_KERNEL)


def test_a_sound_reaches_only_the_lag_window_it_fell_in():
    torch.manual_seed(0)
    encoder = PitchHistory(PH)
    windows = torch.zeros(1, 78, PH.context)
    frame = 25
    assert set(lags_touched(PH.context, frame)) <= set(range(HISTORY[3][0], HISTORY[3][1] + 1))
    loud = windows.clone()
    loud[0, :, frame] = 30.0
    with torch.no_grad():
        (_, quiet), (_, heard) = encoder(windows), encoder(loud)
    changed = (heard - quiet).abs().view(len(HISTORY), PITCH_BINS).amax(1) > 1e-6
    assert changed.tolist() == [number == 3 for number in range(len(HISTORY))]


def test_z_is_the_lstm_output_then_the_history():
    model = tiny_model("PH")
    assert model.config.z_size == PH.hidden + PITCH_BINS * len(HISTORY)
    z, _ = model.audio(random_windows(model, batch=2, steps=3))
    assert z.shape == (2, 3, PH.z_size)
    history = z[..., PH.hidden:]
    assert history.min() >= 0.0 and history.max() <= 1.0


def test_the_register_guesses_of_a_step_hear_its_last_frames_only():
    model = tiny_model("PH")
    windows = random_windows(model, batch=1, steps=2)
    earlier = windows.clone()
    earlier[..., :-FRAME_KERNEL] = 0.0
    later = windows.clone()
    later[..., -1] += 1.0
    with torch.no_grad():
        logits = model.audio.pitch_logits(windows)
        assert logits.shape == (1, 2, PITCH_BINS)
        torch.testing.assert_close(model.audio.pitch_logits(earlier), logits)
        assert not torch.allclose(model.audio.pitch_logits(later), logits)
        torch.testing.assert_close(model.pitch_logits(windows, None), logits)


def test_register_guesses_start_at_the_prior():
    model = tiny_model("PH")
    bias = model.audio.encoder.frames[-1].bias
    torch.testing.assert_close(torch.sigmoid(bias), torch.full_like(bias, REGISTER_PRIOR))


def test_a_heard_register_asks_for_the_column_that_prints_it():
    torch.manual_seed(0)
    model = ScoreFollower(PH_NOTES).eval()
    features = torch.zeros(1, FEATURES, 4, 3)  # three columns: register 7 printed, register 3 printed, nothing
    features[0, 7, :, 0] = 1.0
    features[0, 3, :, 1] = 1.0
    features[0, -1] = 1.0  # all inside a system
    z = torch.zeros(1, PH_NOTES.z_size)
    now = HISTORY_COLUMNS.index(0)
    z[0, PH_NOTES.hidden + now * PITCH_BINS + 7] = 1.0  # register 7 heard now, nothing else
    logits = model._match(features, torch.zeros(1, dtype=torch.long), z)[0, 0]
    assert logits[0, 0] > logits[0, 2] > logits[0, 1]
    assert (logits < 0).all()  # one register is not enough to say "here"
    z[0, PH_NOTES.hidden + now * PITCH_BINS + 3] = 1.0
    assert model._match(features, torch.zeros(1, dtype=torch.long), z)[0, 0, 0, 1] > logits[0, 1]


def test_only_pitch_supervision_teaches_the_register_guesses():
    model = tiny_model("PH", page_path="notes", conditioning="match", match_dim=FEATURES).train()
    windows = random_windows(model, batch=1, steps=3)
    logits, _ = model(torch.rand(1, 1, 32, 24), windows)
    logits.sum().backward()  # the match's loss
    frames = model.audio.encoder.frames[0].weight
    assert frames.grad is None or not frames.grad.any()
    assert model.query.weight.grad.any()
    model.pitch_logits(windows, None).sum().backward()
    assert frames.grad.any()


@pytest.mark.parametrize("changes, message", [
    ({"context": HISTORY[-1][1]}, "context of at least"),
    ({"pitch_head": True}, "takes no pitch head"),
])
def test_bad_ph_configurations_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        PH.replace(**changes)


def test_other_variants_keep_z_the_lstm_output():
    assert TINY.z_size == TINY.hidden
    assert ScoreFollower(TINY.replace(conditioning="match")).query.in_features == TINY.hidden
