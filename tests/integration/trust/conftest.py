"""Fixtures: publishers served on loopback and a trust store directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.trust.support import Publisher, served_publisher


@pytest.fixture
def alpha(tmp_path: Path) -> Iterator[Publisher]:
    """Publisher "Alpha Reviews" on a loopback port."""
    with served_publisher(tmp_path / "homes", "Alpha Reviews") as publisher:
        yield publisher


@pytest.fixture
def beta(tmp_path: Path) -> Iterator[Publisher]:
    """Publisher "Beta Reviews" on another loopback port."""
    with served_publisher(tmp_path / "homes", "Beta Reviews") as publisher:
        yield publisher


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty trust store directory."""
    return tmp_path / "store"
