"""sheetsync adapter: viewer (being written; no hooks yet)."""
