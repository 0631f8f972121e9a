"""Mutation suite: every single-field mutation and seeded random byte flips of each positive spec
vector (and of one logged bundle), plus single byte flips of the content. None verifies except the
documented no-ops, each failure carries a code of specs/verification.md's table, nothing raises.

Documented no-ops (``fuzz.oracle.signed_part``): JSON formatting, the DSSE ``keyid`` hint emptied or
removed, and trailing certificates after the leaf left out (the trust root supplies them); for
content, changes that leave the text-v1 canonical form unchanged.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fuzz.oracle import PositiveVector, is_documented_no_op, positive_vectors
from provenance.errors import CanonicalizationError
from provenance.text import Canonicalization, canonicalize
from provenance.verify.policy import AllOf
from provenance.verify.verifier import Verifier
from tests.adversarial.attack import PINNED_KEY, PINNED_TRUST, logged_trust, transparency_log
from tests.factories import NOW, REVIEW, sign

SPEC = Path(__file__).resolve().parents[2] / "specs" / "verification.md"
BYTE_FLIPS_PER_VECTOR = 200
MIN_MUTATIONS_PER_SUBJECT = 350
GENERIC_CODES = {"verification.failed", "policy.failed"}
Path_ = tuple[str | int, ...]


def spec_codes() -> set[str]:
    """The status codes of the table in specs/verification.md."""
    section = SPEC.read_text(encoding="utf-8").split("## Status codes", 1)[1]
    return set(re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE))


CODES = spec_codes()


def _logged_subject() -> PositiveVector:
    bundle = sign(PINNED_KEY, log=transparency_log())
    verifier = Verifier(logged_trust(PINNED_TRUST))
    return PositiveVector("logged-pinned", REVIEW, bundle.to_bytes(), verifier, AllOf([]), NOW)


SUBJECTS = [*positive_vectors(), _logged_subject()]
KNOWN_GOOD = [subject.bundle for subject in SUBJECTS]


@dataclass(frozen=True)
class Mutation:
    """One mutated input and a label saying what changed."""

    label: str
    bundle: bytes
    content: bytes | None = None


def _leaf_paths(value: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        if not value:
            yield prefix, value
        for key, child in value.items():
            yield from _leaf_paths(child, (*prefix, key))
    elif isinstance(value, list):
        if not value:
            yield prefix, value
        for index, child in enumerate(value):
            yield from _leaf_paths(child, (*prefix, index))
    else:
        yield prefix, value


def _containers(value: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict | list):
        yield prefix, value
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from _containers(child, (*prefix, key))


def _replacements(value: Any) -> list[Any]:
    """Type-appropriate different values (and null)."""
    if isinstance(value, bool):
        return [not value, None]
    if isinstance(value, int):
        return [value + 1, value - 1, -1, 2**53, None]
    if isinstance(value, str):
        flipped = (chr(ord(value[0]) ^ 1) + value[1:]) if value else "x"
        return [v for v in (flipped, value + "A", value[:-1], "", None) if v != value]
    if isinstance(value, list):
        return [[{}], None]
    return [{"x": 1}, None]


def _set(document: Any, path: Path_, value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for part in path[:-1]:
        target = target[part]
    if path:
        target[path[-1]] = value
        return copy
    return value


def _remove(document: Any, path: Path_) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return copy


def json_mutations(document: Any) -> Iterator[tuple[str, Any]]:
    """Every single-field mutation: each leaf replaced, each field removed, each object extended."""
    for path, value in _leaf_paths(document):
        for replacement in _replacements(value):
            yield f"replace {path} with {replacement!r:.30}", _set(document, path, replacement)
    for path, container in _containers(document):
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            yield f"remove {(*path, key)}", _remove(document, (*path, key))
        if isinstance(container, dict):
            yield f"extend {path}", _set(document, path, {**container, "unexpected": 1})


def _with_payload(bundle: dict[str, Any], statement: Any) -> dict[str, Any]:
    payload = base64.b64encode(json.dumps(statement, separators=(",", ":")).encode()).decode()
    return _set(bundle, ("dsseEnvelope", "payload"), payload)  # type: ignore[no-any-return]


def mutations(subject: PositiveVector) -> Iterator[Mutation]:
    """All mutations of one subject: bundle fields, statement fields, byte flips, content flips."""
    document = json.loads(subject.bundle)
    for label, mutated in json_mutations(document):
        yield Mutation(label, json.dumps(mutated).encode())
    statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
    for label, mutated in json_mutations(statement):
        yield Mutation(f"payload: {label}", json.dumps(_with_payload(document, mutated)).encode())
    rng = random.Random(subject.name)
    for _ in range(BYTE_FLIPS_PER_VECTOR):
        position, mask = rng.randrange(len(subject.bundle)), rng.randrange(1, 256)
        flipped = bytearray(subject.bundle)
        flipped[position] ^= mask
        yield Mutation(f"bundle byte {position} ^ {mask:#x}", bytes(flipped))
    for position in range(len(subject.content)):
        flipped = bytearray(subject.content)
        flipped[position] ^= 1 << (position % 8)
        yield Mutation(f"content byte {position}", subject.bundle, bytes(flipped))


def _content_no_op(subject: PositiveVector, content: bytes) -> bool:
    """A content change the signed profile canonicalizes away (text-v1 whitespace, line ends)."""
    statement = json.loads(base64.b64decode(json.loads(subject.bundle)["dsseEnvelope"]["payload"]))
    profile = Canonicalization(statement["predicate"]["canonicalization"])
    try:
        return canonicalize(content, profile) == canonicalize(subject.content, profile)
    except CanonicalizationError:
        return False


def check_mutation(subject: PositiveVector, mutation: Mutation) -> str:
    """Verify one mutation; return 'no-op' or 'rejected', failing the test on anything else."""
    content = subject.content if mutation.content is None else mutation.content
    try:
        result = subject.verifier.check(content, mutation.bundle, subject.policy, at=subject.at)
    except Exception as exc:  # the point: nothing may escape check()
        pytest.fail(f"{subject.name}: {mutation.label}: raised {exc!r}")
    if result.verified:
        documented = (
            _content_no_op(subject, content)
            if mutation.content is not None
            else is_documented_no_op(mutation.bundle, KNOWN_GOOD)
        )
        assert documented, f"{subject.name}: {mutation.label} still verifies"
        return "no-op"
    failure_codes = [finding.code for finding in result.failures]
    assert failure_codes, f"{subject.name}: {mutation.label}: unverified without a failure"
    unknown = set(failure_codes) - CODES
    assert not unknown, f"{subject.name}: {mutation.label}: codes {unknown} not in the spec table"
    assert not set(failure_codes) & GENERIC_CODES, f"{mutation.label}: generic {failure_codes}"
    return "rejected"


def test_the_spec_table_lists_the_codes() -> None:
    assert {"bundle.malformed", "digest.mismatch", "log.entry.mismatch"} <= CODES
    assert len(CODES) >= 30


def test_there_are_positive_vectors_to_mutate() -> None:
    assert len(SUBJECTS) >= 6


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s.name)
def test_no_mutation_of_a_positive_vector_verifies(subject: PositiveVector) -> None:
    outcomes: dict[str, int] = {"rejected": 0, "no-op": 0}
    for mutation in mutations(subject):
        outcomes[check_mutation(subject, mutation)] += 1
    total = sum(outcomes.values())
    print(
        f"\n{subject.name}: {total} mutations, {outcomes['rejected']} rejected, "
        f"{outcomes['no-op']} documented no-ops"
    )
    assert total >= MIN_MUTATIONS_PER_SUBJECT
    assert outcomes["no-op"] < total // 10
