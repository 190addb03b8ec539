"""Benchmarks: `make bench` runs them all, prints the figures and writes docs/benchmarks.md."""
