"""Evaluation: marker rates in generations, seed-aware summaries and tests."""
