"""sheetsync adapter: osc (being written; no hooks yet)."""
