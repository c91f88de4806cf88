"""sheetsync: follow a performance on full sheet-music pages."""

__version__ = "0.1.0"

from sheetsync.hookspecs import hookimpl  # noqa: E402  (plugins write `from sheetsync import hookimpl`)
