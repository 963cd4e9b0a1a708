"""Tests of the benchmark driver (benchmarks/)."""
