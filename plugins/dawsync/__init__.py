"""sheetsync adapter: dawsync (being written; no hooks yet)."""
