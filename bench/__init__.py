"""Benchmarks of congso: `make bench` (python -m bench) writes docs/BENCHMARKS.md."""
