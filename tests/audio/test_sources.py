import time
from pathlib import Path

import pytest

from sheetsync.audio.features import SAMPLE_RATE
from sheetsync.audio.sources import FileSource
from sheetsync.errors import SheetsyncError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bach-bwv40.6.flac"


@pytest.fixture
def jack_sound_device(jack_server, monkeypatch):
    """The dummy JACK server as PortAudio's default device, for one test.

    PortAudio lists devices once, when it starts: restart it to see the server, and afterwards restart it
    without JACK (PortAudio's JACK host aborts the process at exit if the server has gone first)."""
    import sounddevice

    sounddevice._terminate()
    sounddevice._initialize()
    yield
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "sheetsync-no-server")
    sounddevice._terminate()
    sounddevice._initialize()


def test_play_sounds_the_recording_in_real_time_while_it_is_followed(jack_sound_device):
    source = FileSource(EXAMPLE, play=True)
    source.audio = source.audio[: SAMPLE_RATE * 2]
    started = time.monotonic()
    followed = sum(len(block) for block in source.blocks())
    elapsed = time.monotonic() - started
    source.close()
    assert followed == source.played == SAMPLE_RATE * 2  # every sample went to the device
    assert elapsed >= 1.9  # paced at the speed it was played


def test_play_without_a_device_is_a_clear_error():
    try:
        import sounddevice  # noqa: F401  (it loads PortAudio)
        expected = "cannot open audio output no such device to play"
    except OSError:
        expected = "sound devices need the PortAudio library"
    with pytest.raises(SheetsyncError, match=expected):
        FileSource(EXAMPLE, play=True, output_device="no such device")
