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
