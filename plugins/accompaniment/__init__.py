"""sheetsync adapter: accompaniment (being written; no hooks yet)."""
