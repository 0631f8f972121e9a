"""The one-pass readers of issue 14 held to the general code: a bundle or statement of the common
shape read in one pass (``bundle._read_fast``, ``statement._read_fast``) is what the reference
parsers read, and anything else is left to them; the envelope hash from the base64 texts read;
the log leaf from a certificate's memoized facts; ``parse_time``'s ``fromisoformat`` path; and
:func:`provenance._records.quick_init`."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import inspect
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provenance import bundle as bundle_module
from provenance import statement as statement_module
from provenance._records import quick_init
from provenance.bundle import DEFAULT_LIMITS, Bundle, BundleLimits
from provenance.dsse import Envelope, EnvelopeSignature
from provenance.encoding import b64encode, canonical_json
from provenance.errors import BundleFormatError
from provenance.keys import P256_ORDER, normalized_signature
from provenance.statement import (
    Author,
    ContentPredicate,
    Ingredient,
    Statement,
    parse_time,
)
from provenance.text import Canonicalization
from provenance.tlog.entry import InclusionProof, LogEntry, TlogEntry
from provenance.verify.policy import VerifiedFacts
from provenance.verify.result import LogProof, SignerIdentity, VerificationResult
from provenance.verify.verifier import ProvenTime
from tests.property import parse_reference as reference
from tests.property.test_parse_differential import (
    GOOD,
    GOOD_BUNDLE,
    PAYLOAD,
    _bundles_agree,
    _encoded,
    _mutated,
    _statements_agree,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference_bundle(data: bytes, limits: BundleLimits = DEFAULT_LIMITS) -> object:
    try:
        return reference.bundle_from_bytes(data, limits)
    except BundleFormatError as exc:
        return ("refused", exc.code, str(exc))


def _reference_statement(data: bytes) -> object:
    try:
        return reference.statement_from_payload(data)
    except BundleFormatError as exc:
        return ("refused", exc.code, str(exc))


# --- bundles ----------------------------------------------------------------------------------


def test_the_good_bundle_is_read_in_one_pass() -> None:
    data = GOOD_BUNDLE.to_bytes()
    assert bundle_module._read_fast(data, DEFAULT_LIMITS) == GOOD_BUNDLE
    assert statement_module._read_fast(GOOD_BUNDLE.envelope.payload) is not None


@SETTINGS
@given(st.data(), st.integers(1, 16))
def test_a_bundle_read_in_one_pass_is_the_one_the_reference_reads(
    data: st.DataObject, depth: int
) -> None:
    limits = BundleLimits(max_depth=depth) if data.draw(st.booleans()) else DEFAULT_LIMITS
    text = _encoded(_mutated(GOOD, data), data)
    fast = bundle_module._read_fast(text, limits)
    if fast is not None:
        assert fast == _reference_bundle(text, limits)


def _with_string(document: dict[str, Any], where: str, value: str) -> dict[str, Any]:
    document = json.loads(json.dumps(document))
    entry = document["verificationMaterial"]["tlogEntries"][0]
    if where == "origin":
        entry["logId"]["origin"] = value
    elif where == "checkpoint":
        entry["inclusionProof"]["checkpoint"]["envelope"] = value
    elif where == "payloadType":
        document["dsseEnvelope"]["payloadType"] = value
    else:
        document["dsseEnvelope"]["signatures"][0]["keyid"] = value
    return document


WHERE = ["origin", "checkpoint", "payloadType", "keyid"]


@pytest.mark.parametrize("where", WHERE)
def test_colons_in_a_bundle_string_are_read_in_one_pass(where: str) -> None:
    data = json.dumps(_with_string(GOOD, where, "a:b::c"), ensure_ascii=False).encode()
    fast = bundle_module._read_fast(data, DEFAULT_LIMITS)
    assert fast is not None
    assert fast == _reference_bundle(data)


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("escape", ["\\u003a", "\\u003A"])
def test_an_escaped_colon_does_not_hide_a_duplicate_key_in_a_bundle(
    where: str, escape: str
) -> None:
    """One colon escaped, one pair repeated: the text holds as many colons as the shape with its
    strings, yet a key is read twice; the bundle is refused as the reference refuses it."""
    text = json.dumps(_with_string(GOOD, where, "a:b"), ensure_ascii=False)
    text = text.replace('"a:b"', f'"a{escape}b"', 1)
    at = text.index('"logIndex"')
    text = text[:at] + '"logIndex": 7, ' + text[at:]
    data = text.encode("utf-8")
    assert data.count(b":") == json.dumps(
        _with_string(GOOD, where, "a:b"), ensure_ascii=False
    ).count(":")
    assert bundle_module._read_fast(data, DEFAULT_LIMITS) is None
    outcome = _bundles_agree(data)
    assert outcome[:3] == ("refused", "BundleFormatError", "bundle.malformed")


def test_an_escaped_colon_without_a_duplicate_is_read_by_the_general_path() -> None:
    text = json.dumps(_with_string(GOOD, "origin", "a:b"), ensure_ascii=False).replace(
        '"a:b"', '"a\\u003ab"'
    )
    data = text.encode("utf-8")
    assert bundle_module._read_fast(data, DEFAULT_LIMITS) is None
    assert Bundle.from_bytes(data) == _reference_bundle(data)


@pytest.mark.parametrize(
    ("anchor", "insertion"),
    [
        ('"origin"', '"origin": "x", '),
        ('"envelope"', '"envelope": "x", '),
        ('"keyid"', '"keyid": "", '),
        ('"rawBytes"', '"rawBytes": "", '),
        ('"tlogEntries"', '"tlogEntries": [], '),
        ('"treeSize"', '"treeSize": 1, '),
    ],
)
def test_a_repeated_key_is_never_read_in_one_pass(anchor: str, insertion: str) -> None:
    text = GOOD_BUNDLE.to_bytes().decode()
    at = text.index(anchor)
    data = (text[:at] + insertion + text[at:]).encode()
    assert bundle_module._read_fast(data, DEFAULT_LIMITS) is None
    assert _bundles_agree(data)[:3] == ("refused", "BundleFormatError", "bundle.malformed")


# --- statements -------------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_a_statement_read_in_one_pass_is_the_one_the_reference_reads(data: st.DataObject) -> None:
    text = _encoded(_mutated(PAYLOAD, data), data)
    fast = statement_module._read_fast(text)
    if fast is not None:
        assert fast == _reference_statement(text)
    _statements_agree(text)


@SETTINGS
@given(
    st.text(min_size=1, max_size=12),
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,8}", fullmatch=True),
        st.text(max_size=6) | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1),
        max_size=4,
    ),
    st.lists(st.tuples(st.sampled_from(["a" * 64, "0" * 64]), st.none() | st.text(max_size=6))),
    st.none() | st.text(max_size=6),
    st.booleans(),
)
def test_statements_with_colons_and_optional_parts_are_read_as_the_reference_reads_them(
    name: str,
    claims: dict[str, Any],
    ingredients: list[tuple[str, str | None]],
    display_name: str | None,
    publisher: bool,
) -> None:
    predicate = ContentPredicate(
        "text/plain;a=b:c",
        Canonicalization.TEXT_V1,
        datetime(2026, 6, 1, 12, tzinfo=UTC),
        Author("mailto:a@b.example", display_name or None),
        "pub:lisher" if publisher else None,
        claims,
        tuple(Ingredient(sha, label or None) for sha, label in ingredients),
    )
    try:
        payload = Statement(name, "f" * 64, predicate).to_payload()
    except BundleFormatError:
        return  # a lone surrogate: no payload to read
    try:
        actual: object = Statement.from_payload(payload)
    except BundleFormatError as exc:
        actual = ("refused", exc.code, str(exc))
    assert actual == _reference_statement(payload)
    fast = statement_module._read_fast(payload)
    assert fast is None or fast == actual


@pytest.mark.parametrize("escape", ["\\u003a", "\\u003A"])
def test_an_escaped_colon_does_not_hide_a_duplicate_key_in_a_statement(escape: str) -> None:
    text = json.dumps(PAYLOAD)
    assert "https:" in text
    text = text.replace("https:", f"https{escape}", 1)
    at = text.index('"contentType"')
    text = text[:at] + '"contentType": "text/html", ' + text[at:]
    data = text.encode("utf-8")
    assert statement_module._read_fast(data) is None
    outcome = _statements_agree(data)
    assert outcome[:3] == ("refused", "BundleFormatError", "statement.malformed")


# --- parse_time -------------------------------------------------------------------------------


def _fields_reading(text: str) -> datetime | None:
    match = statement_module._RFC3339_UTC_DIGITS.fullmatch(text)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def _parsed(text: str) -> datetime | None:
    try:
        return parse_time(text)
    except BundleFormatError:
        return None


@SETTINGS
@given(
    st.integers(0, 9999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
)
@example(2026, 6, 1, 24, 0, 0)
@example(2024, 2, 29, 23, 59, 59)
@example(2026, 2, 29, 0, 0, 0)
@example(0, 1, 1, 0, 0, 0)
@example(2026, 6, 1, 12, 0, 60)
def test_times_are_read_as_the_fields_reading_reads_them(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    expected, actual = _fields_reading(text), _parsed(text)
    assert actual == expected
    if actual is not None and expected is not None:
        assert actual.tzinfo is expected.tzinfo
        assert repr(actual) == repr(expected)


@SETTINGS
@given(st.text(alphabet="0123456789-T:Zz t+.٣", max_size=24))
def test_other_time_texts_are_read_as_the_fields_reading_reads_them(text: str) -> None:
    assert _parsed(text) == _fields_reading(text)


# --- envelope hash and leaf bytes -------------------------------------------------------------


def _der(r: int, s: int) -> bytes:
    return encode_dss_signature(r, s)


_SIGNATURES = (
    st.builds(_der, st.integers(1, P256_ORDER - 1), st.integers(1, P256_ORDER - 1))
    | st.binary(max_size=80)
    | st.builds(_der, st.integers(1, 2**300), st.integers(0, 2**300))
)


@SETTINGS
@given(
    st.binary(max_size=64),
    st.text(max_size=12) | st.sampled_from(['a"b', "a\\b", "\x7f", "\x1f", "é", "a:b"]),
    st.text(max_size=12) | st.sampled_from(['a"b', "a\\b", "\x7f", "\n", "\ud800"]),
    _SIGNATURES,
)
def test_the_envelope_hash_from_the_texts_read_is_the_canonical_json_of_the_envelope(
    payload: bytes, payload_type: str, keyid: str, sig: bytes
) -> None:
    signature = {"sig": b64encode(normalized_signature(sig))}
    if keyid:
        signature["keyid"] = keyid
    document = {
        "payload": b64encode(payload),
        "payloadType": payload_type,
        "signatures": [signature],
    }
    try:
        expected: object = canonical_json(document)
    except Exception as exc:
        expected = type(exc)
    read = Envelope.from_json(
        {
            "payload": b64encode(payload),
            "payloadType": payload_type,
            "signatures": [{"sig": b64encode(sig), **({"keyid": keyid} if keyid else {})}],
        },
        max_payload_bytes=1 << 16,
    )
    made = Envelope(payload, payload_type, (EnvelopeSignature(sig, keyid),))
    for envelope in (read, made):
        try:
            actual: object = envelope.canonical_bytes()
        except Exception as exc:
            actual = type(exc)
        assert actual == expected
    assert read == made
    if isinstance(expected, bytes):
        assert read.sha256() == made.sha256() == hashlib.sha256(expected).digest()


@SETTINGS
@given(
    st.binary(min_size=1, max_size=300),
    st.integers(0, 2**53 - 1),
    st.binary(min_size=32, max_size=32),
)
def test_leaf_bytes_from_the_certificate_facts_are_the_canonical_json_of_the_leaf(
    der: bytes, moment: int, envelope_sha256: bytes
) -> None:
    for _ in range(2):  # computed, then remembered
        entry = LogEntry(envelope_sha256, hashlib.sha256(der).digest(), moment, der)
        assert entry.to_bytes() == canonical_json(entry.to_json())
        assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.to_bytes()).digest()
    with pytest.raises(Exception, match="signer sha256"):
        LogEntry(envelope_sha256, hashlib.sha256(der + b"x").digest(), moment, der)


# --- quick_init -------------------------------------------------------------------------------


def _toy(quick: bool) -> type:
    @dataclasses.dataclass(frozen=True)
    class Toy:
        a: int
        b: str = "b"
        c: tuple[int, ...] = dataclasses.field(default_factory=tuple)
        d: int = dataclasses.field(default=4, init=False)
        e: tuple[int, ...] = dataclasses.field(default_factory=tuple, kw_only=True)

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    return quick_init(Toy) if quick else Toy


@SETTINGS
@given(st.integers(-2, 5), st.text(max_size=3), st.none() | st.tuples(st.integers()))
def test_quick_init_makes_what_the_generated_init_makes(
    a: int, b: str, c: tuple[int] | None
) -> None:
    quick, generated = _toy(True), _toy(False)
    assert inspect.signature(vars(quick)["__init__"]) == inspect.signature(
        vars(generated)["__init__"]
    )
    for args, kwargs in (((a,), {}), ((a, b), {"e": (a,)}), ((a, b, c), {})):
        if c is None and len(args) == 3:
            continue
        outcomes: list[tuple[object, ...]] = []
        for cls in (quick, generated):
            try:
                made = cls(*args, **kwargs)
                outcomes.append(("made", vars(made), repr(made).split("(", 1)[1], hash(made)))
            except ValueError as exc:
                outcomes.append(("refused", str(exc)))
        assert outcomes[0] == outcomes[1]
    made = quick(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2
    assert dataclasses.replace(made, b="x").b == "x"
    with pytest.raises(TypeError):
        quick()


@pytest.mark.parametrize(
    "cls",
    [
        Author,
        Ingredient,
        ContentPredicate,
        Statement,
        EnvelopeSignature,
        Envelope,
        Bundle,
        LogEntry,
        InclusionProof,
        TlogEntry,
        SignerIdentity,
        LogProof,
        VerificationResult,
        ProvenTime,
        VerifiedFacts,
    ],
)
def test_quick_init_keeps_each_record_s_signature(cls: type) -> None:
    parameters = list(inspect.signature(vars(cls)["__init__"]).parameters.values())[1:]
    fields = [f for f in dataclasses.fields(cls) if f.init]
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, item in zip(parameters, fields, strict=True):
        if item.default is not dataclasses.MISSING:
            assert parameter.default is item.default
        elif item.default_factory is dataclasses.MISSING:
            assert parameter.default is inspect.Parameter.empty


def test_quick_init_refuses_what_it_cannot_write() -> None:
    @dataclasses.dataclass
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    for cls in (Mutable, Slotted):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_a_certificate_s_base64_in_the_leaf_is_the_bundle_s() -> None:
    der = GOOD_BUNDLE.certificates[0].public_bytes(Encoding.DER)
    raw = GOOD["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
    assert base64.b64encode(der).decode() == raw


@pytest.mark.parametrize("name", ["self", "fields"])
def test_quick_init_refuses_a_field_named_as_its_own_names(name: str) -> None:
    record = dataclasses.make_dataclass("Record", [(name, int)], frozen=True)
    with pytest.raises(TypeError, match=name):
        quick_init(record)
