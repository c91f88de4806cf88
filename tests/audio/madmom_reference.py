"""Import madmom 0.16.1 on a modern Python/numpy by restoring the names it still uses."""

from __future__ import annotations

import collections
import collections.abc

import numpy as np


def import_madmom():
    """The madmom module, or None when it is not installed."""
    for name in ("MutableSequence", "Sequence", "Iterable", "Mapping", "MutableMapping", "Callable"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    for name, value in (("float", float), ("int", int), ("complex", complex), ("bool", bool), ("object", object)):
        if name not in np.__dict__:
            setattr(np, name, value)
    try:
        import madmom
        import madmom.audio.spectrogram  # noqa: F401  (the part we compare against)
    except ImportError:
        return None
    return madmom
