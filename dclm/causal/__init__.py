"""Causal estimation with known-truth simulations: regression, IV, deconfounding."""
