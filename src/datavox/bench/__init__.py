"""Benchmarks behind `datavox bench ...`."""
