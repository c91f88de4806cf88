"""Write examples/bach-bwv40.6-accompaniment.mid: the alto, tenor and bass of the shipped chorale (music21's
`bach/bwv40.6`), so a soprano (or any melody player) can be accompanied:

    python plugins/accompaniment/make_example.py [OUT.mid]

One track per voice, church organ (program 19) on channels 1-3, 4/4 at 80 BPM (the tempo only matters
until the soloist's own is known). The chorale has no pickup, so score measure N is accompaniment bar N.
"""

from __future__ import annotations

import sys

import mido

TICKS = 480
VOICES = {"Alto": (0, 72), "Tenor": (1, 68), "Bass": (2, 76)}  # part -> (channel, velocity)


def main(out: str = "examples/bach-bwv40.6-accompaniment.mid") -> None:
    from music21 import corpus

    score = corpus.parse("bach/bwv40.6")
    midi = mido.MidiFile(ticks_per_beat=TICKS)
    conductor = mido.MidiTrack([mido.MetaMessage("track_name", name="BWV 40.6 accompaniment"),
                                mido.MetaMessage("time_signature", numerator=4, denominator=4),
                                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(80))])
    midi.tracks.append(conductor)
    for part in score.parts:
        if part.partName not in VOICES:
            continue
        channel, velocity = VOICES[part.partName]
        events = []
        for note in part.flatten().stripTies().notes:
            start = round(float(note.offset) * TICKS)
            end = start + round(float(note.quarterLength) * TICKS)
            for pitch in note.pitches:
                events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch.midi, velocity=velocity)))
                events.append((end, 0, mido.Message("note_off", channel=channel, note=pitch.midi)))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.partName),
                                mido.Message("program_change", channel=channel, program=19)])
        now = 0
        for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
