"""sheetsync adapter: midi (being written; no hooks yet)."""
