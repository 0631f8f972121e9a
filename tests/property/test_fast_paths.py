"""Each fast path of the verification hot path agrees with the general code it short-cuts."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.dsse import Envelope, EnvelopeSignature
from provenance.encoding import (
    StrictDecodeError,
    _b64decode_checked,
    b64decode_strict,
    canonical_json,
)
from provenance.errors import BundleFormatError, CanonicalizationError, LogProofError
from provenance.keys import KeyType, generate_key
from provenance.statement import RFC3339_UTC, parse_time
from provenance.text import Canonicalization, canonicalize, content_sha256
from provenance.tlog import merkle
from provenance.tlog.entry import LogEntry

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT_ALPHABET = st.sampled_from(
    ["a", "b", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "é", "e\u0301", "Z"]
)


def _outcome(action: object) -> object:
    try:
        return action()  # type: ignore[operator]
    except (CanonicalizationError, StrictDecodeError, BundleFormatError, LogProofError) as exc:
        return (type(exc).__name__, str(exc))


@SETTINGS
@given(st.lists(TEXT_ALPHABET, max_size=40).map("".join))
def test_text_digest_of_bytes_equals_the_streamed_line_by_line_digest(text: str) -> None:
    data = text.encode("utf-8")
    for profile in Canonicalization:
        fast = _outcome(lambda profile=profile: content_sha256(data, profile))
        streamed = _outcome(lambda profile=profile: content_sha256(io.BytesIO(data), profile))
        assert fast == streamed
        if isinstance(fast, str):
            assert fast == hashlib.sha256(canonicalize(data, profile)).hexdigest()


@SETTINGS
@given(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**53 - 1),
    st.none() | st.binary(max_size=300),
)
def test_leaf_bytes_are_the_canonical_json_of_the_entry(
    envelope: bytes, signer: bytes, time: int, certificate: bytes | None
) -> None:
    if certificate is not None:
        signer = hashlib.sha256(certificate).digest()
    entry = LogEntry(envelope, signer, time, certificate)
    assert entry.to_bytes() == canonical_json(entry.to_json())
    assert LogEntry.from_bytes(entry.to_bytes()) == entry
    assert entry.leaf_hash == merkle.leaf_hash(canonical_json(entry.to_json()))


B64_ALPHABET = st.sampled_from([*"AQgw+/=\n -_aZz09", "é"])


@SETTINGS
@given(
    st.one_of(
        st.lists(B64_ALPHABET, max_size=12).map("".join),
        st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode()),
    )
)
def test_strict_base64_answers_as_the_step_by_step_decoder(text: str) -> None:
    assert _outcome(lambda: b64decode_strict(text)) == _outcome(lambda: _b64decode_checked(text))


_EXACT_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)


@SETTINGS
@given(
    st.one_of(
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
            lambda moment: moment.strftime(RFC3339_UTC).rjust(20, "0")
        ),
        st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", fullmatch=True),
        st.from_regex(
            r"[0-9٣]{1,4}-[0-9]{1,2}-[0-9]{1,2}[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,3}[Zz]?"
        ),
    )
)
def test_times_of_the_exact_form_parse_as_strptime_parses_them_and_others_are_refused(
    text: str,
) -> None:
    """strptime also reads one-digit fields, non-ASCII digits, a lower-case ``t`` or ``z``:
    ``parse_time`` refuses those (bundle-v1 §2), and reads the exact form as strptime does."""
    try:
        expected: object = datetime.strptime(text, RFC3339_UTC).replace(tzinfo=UTC)
    except ValueError:
        expected = "refused"
    if not _EXACT_TIME.fullmatch(text):
        expected = "refused"
    try:
        found: object = parse_time(text)
    except BundleFormatError as exc:
        assert "is not RFC 3339 UTC" in exc.message
        found = "refused"
    assert found == expected


def _tree(size: int) -> tuple[list[bytes], merkle.NodeReader]:
    leaves = [merkle.leaf_hash(b"%d" % n) for n in range(size)]

    def read(level: int, index: int) -> bytes:
        return merkle.root_from_hashes(leaves[index << level : (index + 1) << level])

    return leaves, read


@SETTINGS
@given(st.data())
def test_the_bitwise_inclusion_check_accepts_exactly_what_the_path_check_accepts(
    data: st.DataObject,
) -> None:
    size = data.draw(st.integers(1, 300))
    index = data.draw(st.integers(0, size - 1))
    leaves, read = _tree(size)
    proof = merkle.inclusion_proof(index, size, read)
    root = merkle.subtree_hash(0, size, read)
    claimed_index = data.draw(st.sampled_from([index, (index + 1) % size, index ^ 1]))
    claimed_size = data.draw(st.sampled_from([size, size + 1, max(1, size - 1), 2 * size]))
    edit = data.draw(st.sampled_from(["none", "drop", "add", "flip", "short"]))
    if edit == "drop" and proof:
        proof = proof[:-1]
    elif edit == "add":
        proof = [*proof, bytes(32)]
    elif edit == "flip" and proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        proof = [
            *proof[:position],
            bytes([proof[position][0] ^ 1]) + proof[position][1:],
            *proof[position + 1 :],
        ]
    elif edit == "short" and proof:
        proof = [proof[0][:31], *proof[1:]]
    fast = merkle._proves_inclusion(claimed_index, claimed_size, leaves[index], proof, root)
    reference = False
    if claimed_index < claimed_size:  # verify_subtree_inclusion refuses other indices first
        path = merkle._proof_path(claimed_index, claimed_index + 1, claimed_size)
        try:
            _, computed = merkle._chain(path, leaves[index], proof)
            reference = computed == root
        except LogProofError:
            reference = False
    assert fast == reference
    if edit == "none" and claimed_index == index and claimed_size == size:
        assert fast


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 1000])
def test_every_leaf_of_small_trees_is_proven_by_both_checks(size: int) -> None:
    leaves, read = _tree(size)
    root = merkle.subtree_hash(0, size, read)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, read)
        assert merkle._proves_inclusion(index, size, leaves[index], proof, root)
        merkle.verify_inclusion(index, size, leaves[index], proof, root)


ASCII_TEXT = st.text(st.characters(max_codepoint=127), max_size=12)


@SETTINGS
@given(
    st.binary(max_size=200),
    st.one_of(ASCII_TEXT, st.text(max_size=6)),
    st.lists(st.one_of(ASCII_TEXT, st.text(max_size=4)), min_size=1, max_size=3),
)
def test_envelope_bytes_are_the_canonical_json_of_the_envelope(
    payload: bytes, payload_type: str, keyids: list[str]
) -> None:
    key = generate_key(KeyType.P256)
    signatures = tuple(EnvelopeSignature(key.sign(payload), keyid) for keyid in keyids)
    envelope = Envelope(payload, payload_type, signatures)
    expected = envelope.to_json() | {
        "signatures": [
            {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()}
            if s.keyid
            else {"sig": base64.b64encode(s.sig).decode()}
            for s in signatures
        ]
    }
    try:
        reference = canonical_json(expected)
    except Exception:  # a lone surrogate JCS cannot write: both paths refuse it
        with pytest.raises(Exception):  # noqa: B017
            envelope.canonical_bytes()
        return
    assert envelope.canonical_bytes() == reference
    assert envelope.sha256() == hashlib.sha256(reference).digest()
