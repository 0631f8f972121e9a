"""The transparency-dev/merkle proof vectors (../shared/vectors/merkle/testdata) against our verifier."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from provenance.errors import LogProofError
from provenance.tlog import merkle
from tests.shared import SHARED_ROOT, shared_dir

TESTDATA = SHARED_ROOT / "vectors" / "merkle" / "testdata"


def _cases(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).rglob("*.json")) if (TESTDATA / kind).is_dir() else []


def _load(path: Path) -> dict[str, Any]:
    shared_dir("vectors", "merkle", "testdata")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_b64(item) for item in data["proof"] or []]


def _check(data: dict[str, Any], verify: Any) -> None:
    if data["wantErr"]:
        with pytest.raises(LogProofError) as caught:
            verify()
        assert caught.value.code == "log.proof.invalid"
    else:
        verify()


def _ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(TESTDATA)) for path in paths]


def test_vector_sets_are_present() -> None:
    root = shared_dir("vectors", "merkle", "testdata")
    counts = {kind: len(_cases(kind)) for kind in ("inclusion", "consistency")}
    assert root.is_dir()
    assert counts["inclusion"] > 50
    assert counts["consistency"] > 50


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_ids(_cases("inclusion")))
def test_inclusion_vector(path: Path) -> None:
    data = _load(path)
    _check(
        data,
        lambda: merkle.verify_inclusion(
            data["leafIdx"],
            data["treeSize"],
            _b64(data["leafHash"]),
            _proof(data),
            _b64(data["root"]),
        ),
    )


@pytest.mark.parametrize("path", _cases("consistency"), ids=_ids(_cases("consistency")))
def test_consistency_vector(path: Path) -> None:
    data = _load(path)
    _check(
        data,
        lambda: merkle.verify_consistency(
            data["size1"], data["size2"], _b64(data["root1"]), _b64(data["root2"]), _proof(data)
        ),
    )


@pytest.mark.parametrize("path", _cases("subtreeinclusion"), ids=_ids(_cases("subtreeinclusion")))
def test_subtree_inclusion_vector(path: Path) -> None:
    data = _load(path)
    _check(
        data,
        lambda: merkle.verify_subtree_inclusion(
            data["leafIdx"],
            data["start"],
            data["end"],
            _b64(data["leafHash"]),
            proof=_proof(data),
            subtree_root=_b64(data["root"]),
        ),
    )


@pytest.mark.parametrize(
    "path", _cases("subtreeconsistency"), ids=_ids(_cases("subtreeconsistency"))
)
def test_subtree_consistency_vector(path: Path) -> None:
    data = _load(path)
    _check(
        data,
        lambda: merkle.verify_subtree_consistency(
            data["start"],
            data["end"],
            data["size"],
            subtree_root=_b64(data["root1"]),
            root=_b64(data["root2"]),
            proof=_proof(data),
        ),
    )
