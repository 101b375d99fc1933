"""The simulator's HTTP layer: parse, call the backend, serialise. It decides nothing."""
