"""Benchmarks for the quality bars of SPEC §4; run as scripts, outside the test suite."""
