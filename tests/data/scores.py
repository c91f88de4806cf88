"""Tiny scores written by the tests themselves."""

from __future__ import annotations

STEPS = "CDEFGAB"


def _note(step: str, octave: int, duration: int, kind: str, staff: int = 1, voice: int = 1,
          chord: bool = False, tie: str | None = None) -> str:
    tie_xml = f'<tie type="{tie}"/>' if tie else ""
    tied_xml = f'<notations><tied type="{tie}"/></notations>' if tie else ""
    return (f"<note>{'<chord/>' if chord else ''}<pitch><step>{step}</step><octave>{octave}</octave></pitch>"
            f"<duration>{duration}</duration>{tie_xml}<voice>{voice}</voice><type>{kind}</type>"
            f"<staff>{staff}</staff>{tied_xml}</note>")


def piano_musicxml(measures: int = 4, repeat: bool = False, tie: bool = True, tempo: int = 120) -> str:
    """A two-staff piano piece: quarter-note melody (with a tie across the first barline), half-note bass chords."""
    body = []
    for m in range(measures):
        parts = []
        if m == 0:
            parts.append("<attributes><divisions>1</divisions><key><fifths>0</fifths></key>"
                         "<time><beats>4</beats><beat-type>4</beat-type></time><staves>2</staves>"
                         '<clef number="1"><sign>G</sign><line>2</line></clef>'
                         '<clef number="2"><sign>F</sign><line>4</line></clef></attributes>'
                         f'<direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>'
                         f"<per-minute>{tempo}</per-minute></metronome></direction-type>"
                         f'<sound tempo="{tempo}"/></direction>')
        if repeat and m == 0:
            parts.append('<barline location="left"><bar-style>heavy-light</bar-style><repeat direction="forward"/></barline>')
        for beat in range(4):
            step = STEPS[(m * 4 + beat) % 7]
            kind_tie = None
            if tie and m == 0 and beat == 3:
                kind_tie = "start"
            elif tie and m == 1 and beat == 0:
                kind_tie = "stop"
                step = STEPS[3 % 7]
            parts.append(_note(step, 5, 1, "quarter", tie=kind_tie))
        parts.append("<backup><duration>4</duration></backup>")
        for half in range(2):
            root = STEPS[(m * 2 + half) % 7]
            parts.append(_note(root, 3, 2, "half", staff=2, voice=2))
            parts.append(_note(STEPS[(STEPS.index(root) + 2) % 7], 3, 2, "half", staff=2, voice=2, chord=True))
        if repeat and m == measures - 1:
            parts.append('<barline location="right"><bar-style>light-heavy</bar-style><repeat direction="backward"/></barline>')
        body.append(f'<measure number="{m + 1}">{"".join(parts)}</measure>')
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<score-partwise version="3.1"><work><work-title>Test Piece</work-title></work>'
            '<part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
            f'<part id="P1">{"".join(body)}</part></score-partwise>')


def notes_in(measures: int, tie: bool = True) -> int:
    """Played note onsets of piano_musicxml without repeats: 4 melody + 4 bass per measure, one tie merged."""
    return measures * 8 - (1 if tie and measures > 1 else 0)
