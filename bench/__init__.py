"""Benchmarks: side-by-side measurements whose results are recorded in RESULTS.md (not tests)."""
