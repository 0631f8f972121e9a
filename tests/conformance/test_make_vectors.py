"""`make vectors` is reproducible: a run writes exactly the vectors checked in under specs/vectors."""

from __future__ import annotations

import json

from scripts.make_vectors import OUT, bundle_vectors
from scripts.vector_audit import AUDIT_OUT, audit_cases
from scripts.vector_cases import ARMOR_OUT, armor_vectors


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


def test_audit_vectors_are_what_make_vectors_writes() -> None:
    generated = {case.pop("name"): case for case in audit_cases()}
    checked_in = {p.stem: json.loads(p.read_text()) for p in AUDIT_OUT.glob("*.json")}
    assert generated == checked_in
