"""The default training corpus: the music21 corpus minus the reserved evaluation pieces, plus composed piano music."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sheetsync.data.sources import ScoreSource, abc_tunes, composed_sources, file_sources, slug

# Reserved for evaluation (shared/NOTES.md): never trained or tuned on.
RESERVED_FOLDERS = ("oneills1850", "schumann_clara", "chopin", "joplin")
RESERVED_BACH_PREFIX = "bwv2"

FOLK_FOLDERS = ("essenFolksong", "ryansMammoth", "airdsAirs", "miscFolk", "nottingham-dataset")
# Pieces with piano (or voice and piano) that are not reserved.
PIANO_PIECES = (
    "beach/prayer_of_a_tired_child.musicxml",
    "mozart/k545",
    "schubert/Lindenbaum.xml",
    "schumann_robert/dichterliebe_no2.xml",
    "johnson_j_r/lift_every_voice.mxl",
    "liliuokalani/aloha_oe.mxl",
    "leadSheet/berlinAlexandersRagtime.mxl",
    "leadSheet/fosterBrownHair.mxl",
)


def corpus_root() -> Path:
    """The music21 corpus folder inside the installed music21 package."""
    import music21

    return Path(music21.__file__).parent / "corpus"


def is_reserved(path: Path) -> bool:
    """Whether a file is one of the music21 corpus pieces reserved for evaluation."""
    try:
        relative = Path(path).resolve().relative_to(corpus_root().resolve())
    except ValueError:
        return False
    top = relative.parts[0] if relative.parts else ""
    return top in RESERVED_FOLDERS or (top == "bach" and relative.name.startswith(RESERVED_BACH_PREFIX))


def default_sources(seed: int, folk_tunes: int, composed: int) -> list[ScoreSource]:
    """Bach chorales as piano scores, the corpus's piano pieces, a seeded sample of folk tunes, composed pieces."""
    root = corpus_root()
    sources = chorales(root) + piano_pieces(root) + folk_sample(root, seed, folk_tunes)
    sources += composed_sources(seed, composed)
    assert not any(s.path and is_reserved(s.path) for s in sources)
    return sources


def chorales(root: Path) -> list[ScoreSource]:
    """Every non-reserved Bach chorale once (the corpus has some in two formats), as a two-staff piano score."""
    by_stem: dict[str, Path] = {}
    for path in sorted((root / "bach").iterdir()):
        if path.suffix in (".mxl", ".xml", ".musicxml") and not is_reserved(path):
            by_stem.setdefault(path.stem, path)
    return [ScoreSource(f"bach-{slug(stem)}", f"music21 corpus: bach/{path.name}", path, grand_staff=True)
            for stem, path in sorted(by_stem.items())]


def piano_pieces(root: Path) -> list[ScoreSource]:
    sources = []
    for name in PIANO_PIECES:
        target = root / name
        files = sorted(p for p in target.rglob("*") if p.suffix in (".mxl", ".xml", ".musicxml")) \
            if target.is_dir() else [target]
        for path in files:
            if path.exists():
                source = file_sources(path)[0]
                relative = path.relative_to(root)
                sources.append(ScoreSource(f"{slug(relative.parts[0])}-{source.id}", f"music21 corpus: {relative}",
                                           path))
    return sources


def folk_sample(root: Path, seed: int, count: int) -> list[ScoreSource]:
    """A seeded sample of `count` folk tunes across the corpus's ABC collections."""
    tunes = []
    for folder in FOLK_FOLDERS:
        for path in sorted((root / folder).glob("*.abc")):
            for index in range(len(abc_tunes(path))):
                tunes.append((folder, path, index))
    order = np.random.default_rng(seed).permutation(len(tunes))[:count]
    return [ScoreSource(f"folk-{slug(folder)}-{slug(path.stem)}-{index + 1:03d}",
                        f"music21 corpus: {folder}/{path.name} (tune {index + 1})", path, index)
            for folder, path, index in (tunes[i] for i in sorted(order))]
