"""Hypothesis properties for the parsers that had none: strict JSON and base64, statements,
log leaves, bundle log entries, checkpoints, signed notes, verifier keys, and text-v1. Each parser
returns or raises its one documented error; round trips are exact. Bounded for CI."""

from __future__ import annotations

import contextlib
import json
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.encoding import StrictDecodeError, b64decode_strict, b64encode, loads_strict
from provenance.errors import BundleFormatError, KeyFormatError, LogProofError
from provenance.statement import Statement
from provenance.text import Canonicalization, canonicalize
from provenance.tlog.entry import LogEntry, TlogEntry
from provenance.tlog.note import (
    Checkpoint,
    NoteVerifier,
    open_checkpoint,
    sign_checkpoint,
)
from tests.adversarial.attack import LOG_SIGNER, ORIGIN, statement_json

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT_V1 = Canonicalization.TEXT_V1

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
hashes = st.binary(min_size=32, max_size=32)
key_names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="+"),
    min_size=1,
    max_size=20,
)


@SETTINGS
@given(st.binary(max_size=200))
def test_b64_round_trips_exactly(data: bytes) -> None:
    assert b64decode_strict(b64encode(data)) == data


@SETTINGS
@given(st.text(alphabet="ABCDEFabcdef0123456789+/=-_ \n", max_size=24))
def test_b64_accepts_only_its_own_canonical_encoding(text: str) -> None:
    try:
        decoded = b64decode_strict(text)
    except StrictDecodeError:
        return
    assert b64encode(decoded) == text


@SETTINGS
@given(st.binary(max_size=300))
def test_loads_strict_returns_or_raises_strict_decode_error(data: bytes) -> None:
    with contextlib.suppress(StrictDecodeError):
        loads_strict(data, max_bytes=256)


@SETTINGS
@given(json_values)
def test_statement_parser_raises_only_statement_codes(value: Any) -> None:
    try:
        Statement.from_payload(json.dumps(value).encode())
    except BundleFormatError as exc:
        assert exc.code in {"statement.malformed", "statement.unsupported"}


@SETTINGS
@given(st.sampled_from(["subject", "predicate", "_type", "predicateType"]), json_values)
def test_statement_with_any_field_replaced_parses_or_is_refused(field: str, value: Any) -> None:
    statement = statement_json()
    statement[field] = value
    try:
        Statement.from_payload(json.dumps(statement).encode())
    except BundleFormatError as exc:
        assert exc.code in {"statement.malformed", "statement.unsupported"}


@SETTINGS
@given(hashes, hashes, st.integers(min_value=0, max_value=2**53 - 1))
def test_log_leaf_round_trips(envelope: bytes, signer: bytes, moment: int) -> None:
    entry = LogEntry(envelope, signer, moment)
    assert LogEntry.from_bytes(entry.to_bytes()) == entry


@SETTINGS
@given(st.binary(max_size=300))
def test_log_leaf_parser_raises_only_entry_malformed(data: bytes) -> None:
    try:
        LogEntry.from_bytes(data)
    except LogProofError as exc:
        assert exc.code == "log.entry.malformed"


@SETTINGS
@given(json_values)
def test_bundle_log_entry_parser_raises_only_bundle_malformed(value: Any) -> None:
    try:
        TlogEntry.from_json(value)
    except BundleFormatError as exc:
        assert exc.code == "bundle.malformed"


@SETTINGS
@given(
    key_names,
    st.integers(min_value=0, max_value=2**64 - 1),
    hashes,
    st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1), max_size=3),
)
def test_checkpoint_text_round_trips(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint


@SETTINGS
@given(st.text(max_size=300))
def test_checkpoint_parsers_raise_only_log_errors(text: str) -> None:
    for parse in (Checkpoint.from_text, _open):
        try:
            parse(text)
        except LogProofError as exc:
            assert exc.code in {"log.checkpoint.invalid", "log.checkpoint.unsigned"}


def _open(note: str) -> Checkpoint:
    return open_checkpoint(note, [LOG_SIGNER.verifier], origin=ORIGIN)


SIGNED = sign_checkpoint(Checkpoint(ORIGIN, 42, bytes(range(32))), LOG_SIGNER)


@SETTINGS
@given(st.integers(min_value=0, max_value=len(SIGNED) - 1), st.characters(codec="utf-8"))
def test_a_signed_checkpoint_with_any_character_changed_never_opens(
    position: int, char: str
) -> None:
    if SIGNED[position] == char:
        return
    tampered = SIGNED[:position] + char + SIGNED[position + 1 :]
    try:
        checkpoint = _open(tampered)
    except LogProofError:
        return
    assert checkpoint == _open(SIGNED)  # only a change the signature does not cover may pass


@SETTINGS
@given(st.text(max_size=120))
def test_verifier_key_parser_raises_only_key_format_error(text: str) -> None:
    with contextlib.suppress(KeyFormatError):
        NoteVerifier.from_key_string(text)


@SETTINGS
@given(st.text(st.characters(codec="utf-8"), max_size=200))
def test_text_v1_is_idempotent(text: str) -> None:
    once = canonicalize(text.encode(), TEXT_V1)
    assert canonicalize(once, TEXT_V1) == once


@SETTINGS
@given(st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=200))
def test_text_v1_ignores_normalization_form_line_endings_and_trailing_space(text: str) -> None:
    variant = unicodedata.normalize("NFD", text).replace("\n", " \r\n")
    assert canonicalize(variant.encode(), TEXT_V1) == canonicalize(text.encode(), TEXT_V1)
