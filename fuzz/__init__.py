"""Atheris fuzz targets (see fuzz/README.md); not part of the test suite."""
