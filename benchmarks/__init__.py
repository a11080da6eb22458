"""Benchmarks that run the real code; `python -m benchmarks` runs them all."""
