"""geomcore."""
