"""`make vectors` is reproducible: a run writes exactly the vectors checked in under specs/vectors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts.make_vectors import OUT, bundle_vectors
from scripts.vector_audit import AUDIT_OUT, audit_cases
from scripts.vector_cases import ARMOR_OUT, armor_vectors
from scripts.vector_model import MODEL_OUT, model_cases
from scripts.vector_trust import TRUST_OUT, trust_cases
from scripts.vector_trust_root import TRUST_ROOT_OUT, trust_root_cases


def test_bundle_vectors_are_what_make_vectors_writes() -> None:
    generated = {v.name: v.to_json() for v in bundle_vectors()}
    checked_in = {p.stem: json.loads(p.read_text()) for p in OUT.glob("*.json")}
    assert sorted(generated) == sorted(checked_in)
    for name, vector in generated.items():
        assert vector == checked_in[name], f"{name} differs: run make vectors"


def test_armor_vectors_are_what_make_vectors_writes() -> None:
    generated = {case.pop("name"): case for case in armor_vectors()}
    checked_in = {p.stem: json.loads(p.read_text()) for p in ARMOR_OUT.glob("*.json")}
    assert generated == checked_in


@pytest.mark.parametrize(
    ("cases", "directory"),
    [
        (audit_cases, AUDIT_OUT),
        (model_cases, MODEL_OUT),
        (trust_cases, TRUST_OUT),
        (trust_root_cases, TRUST_ROOT_OUT),
    ],
    ids=["tlog-v1", "model-v1", "trust-distribution-v1", "trust-root-v1"],
)
def test_other_vectors_are_what_make_vectors_writes(
    cases: Callable[[], list[dict[str, Any]]], directory: Path
) -> None:
    generated = {case.pop("name"): case for case in cases()}
    checked_in = {p.stem: json.loads(p.read_text()) for p in directory.glob("*.json")}
    assert generated == checked_in
