"""Locate ../shared (public vectors and fixtures) and skip or fail when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_ROOT = Path(__file__).resolve().parents[1].parent / "shared"


def shared_dir(*parts: str) -> Path:
    """Return ../shared/<parts>; skip when absent, fail when PROVENANCE_REQUIRE_SHARED=1."""
    path = SHARED_ROOT.joinpath(*parts)
    if path.exists():
        return path
    reason = f"{path} is absent: public vectors and fixtures live in ../shared beside the repo"
    if os.environ.get("PROVENANCE_REQUIRE_SHARED") == "1":
        pytest.fail(reason + " (PROVENANCE_REQUIRE_SHARED=1 makes this a failure)")
    pytest.skip(reason)
