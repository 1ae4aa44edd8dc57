"""Training of the learned tiers (never imported by the serving path)."""
