import time

import mido
import pytest

from sheetsync.errors import SheetsyncError
from sheetsync_midi.ports import open_input, open_output


def test_virtual_output_reaches_a_connected_input(jack_server):
    sender = open_output("virtual:ports-test", client="sender")
    receiver = open_input("ports-test", client="receiver")
    try:
        time.sleep(0.2)
        sent = [mido.Message("note_on", note=60 + i, velocity=90) for i in range(5)]
        for message in sent:
            sender.send(message)
        received = []
        deadline = time.monotonic() + 3
        while len(received) < len(sent) and time.monotonic() < deadline:
            received.extend(receiver.iter_pending())
            time.sleep(0.01)
        assert [m.note for m in received] == [m.note for m in sent]
    finally:
        receiver.close()
        sender.close()


def test_unknown_port_names_the_ports_there_are(jack_server):
    with pytest.raises(SheetsyncError, match="no MIDI output port matches 'no-such-synth'"):
        open_output("no-such-synth")


def test_shared_output_is_opened_once_and_silenced_when_the_last_user_leaves(jack_server):
    from sheetsync_midi.ports import SharedOutput

    receiver = open_input("virtual:shared-sink", client="shared-receiver")
    try:
        first = SharedOutput.acquire("shared-sink")
        assert SharedOutput.acquire("shared-sink") is first
        SharedOutput.release("shared-sink")
        assert not first.closed
        time.sleep(0.2)
        SharedOutput.release("shared-sink")
        assert first.closed
        received = []
        deadline = time.monotonic() + 3
        while len(received) < 16 and time.monotonic() < deadline:
            received.extend(m for m in receiver.iter_pending() if m.is_cc(123))
            time.sleep(0.01)
        assert sorted(m.channel for m in received) == list(range(16))  # all notes off, every channel
    finally:
        receiver.close()
