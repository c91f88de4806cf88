"""sheetsync: follow a performance on full sheet-music pages."""

__version__ = "0.1.0"
