"""The strict parsers of bundles and statements as they were before issue 14's fast paths (commit
459040b): ``json.loads`` with a duplicate-key hook, base64 checked by encoding it again, and the
field checks one call each. The differential tests hold the library's parsers to these: the same
objects, or a refusal with the same code and message.

They build the library's own dataclasses, so that results compare with ``==``. One rule was
changed since, on purpose: an optional statement field set to ``null`` is refused, not read as
absent (bundle-v1's exact JSON types; found by the fourth attack, 2026-12-03).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from cryptography import x509

from provenance.bundle import BUNDLE_MEDIA_TYPE, DEFAULT_LIMITS, Bundle, BundleLimits
from provenance.codes import Code
from provenance.dsse import ENVELOPE_LIMITS, Envelope, EnvelopeSignature
from provenance.encoding import JSON_LIMITS, StrictDecodeError, TooLargeError
from provenance.errors import BundleFormatError
from provenance.identity.profile import load_certificate_der
from provenance.statement import (
    CLAIM_NAME,
    CONTENT_TYPE,
    PREDICATE_TYPE,
    SHA256_HEX,
    STATEMENT_LIMITS,
    STATEMENT_TYPE,
    Author,
    ClaimValue,
    ContentPredicate,
    Ingredient,
    Statement,
    parse_time,
)
from provenance.text import Canonicalization
from provenance.tlog.entry import InclusionProof, TlogEntry
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.merkle import HASH_SIZE

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_KEY_ID = re.compile(r"[0-9a-f]{64}")


# --- encoding.py ---------------------------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise StrictDecodeError(f"duplicate JSON key {_first_duplicate(pairs)!r}")
    return result


def _first_duplicate(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no duplicate key")


def _reject_constant(name: str) -> Any:
    raise StrictDecodeError(f"non-finite number {name} is not JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictDecodeError(f"number {text[:40]} overflows to a non-finite value")
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > JSON_LIMITS.max_integer_digits:
        raise StrictDecodeError(
            f"integer of {len(text)} digits exceeds {JSON_LIMITS.max_integer_digits}"
        )
    value = int(text)
    if abs(value) > JSON_LIMITS.max_exact_integer:
        raise StrictDecodeError(f"integer {text} is outside the exact range of I-JSON, +-(2**53-1)")
    return value


def _lone_surrogate_path(value: Any) -> str | None:
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str) and _LONE_SURROGATE.search(item):
            return f"the string at {path}"
        if isinstance(item, dict):
            for key, child in item.items():
                if _LONE_SURROGATE.search(key):
                    return f"a key of {path}"
                stack.append((f"{path}.{ascii(key[:64])[1:-1]}", child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


def _nested_deeper(value: Any, allowed: int) -> bool:
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > allowed:
            return True
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            deeper.extend(child for child in children if isinstance(child, dict | list))
        level = deeper
    return False


def loads_strict(
    data: bytes | str,
    *,
    max_bytes: int,
    max_depth: int = JSON_LIMITS.max_depth,
    allow_lone_surrogates: bool = False,
) -> Any:
    """``provenance.encoding.loads_strict`` before the orjson fast path."""
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as exc:
        raise StrictDecodeError(f"not UTF-8: {exc.reason} at character {exc.start}") from exc
    if len(raw) > max_bytes:
        raise TooLargeError(f"document of {len(raw)} bytes exceeds the cap of {max_bytes}")
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except UnicodeDecodeError as exc:
        raise StrictDecodeError(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except RecursionError as exc:
        raise StrictDecodeError("JSON nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise StrictDecodeError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    openings = raw.count(b"{") + raw.count(b"[")
    if openings > max_depth and _nested_deeper(value, max_depth):
        raise StrictDecodeError(f"JSON nested deeper than {max_depth} levels")
    if not allow_lone_surrogates and _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate_path(value)
        if where is not None:
            raise StrictDecodeError(f"lone surrogate in {where} (not I-JSON)")
    return value


def b64decode_strict(text: str) -> bytes:
    """``provenance.encoding.b64decode_strict`` before the padding-bits check."""
    try:
        decoded = binascii.a2b_base64(text, strict_mode=True)
        if binascii.b2a_base64(decoded, newline=False) == text.encode("ascii"):
            return decoded
    except (binascii.Error, ValueError, TypeError):
        pass
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise StrictDecodeError(f"not standard padded base64: {exc}") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise StrictDecodeError("non-canonical base64 (padding bits or padding)")
    return data


ErrorFactory = Callable[[str], Exception]


def json_object(
    obj: object, what: str, required: set[str], optional: set[str], error: ErrorFactory
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise error(f"{what} must be a JSON object")
    missing = required - obj.keys()
    unknown = obj.keys() - required - optional
    if missing:
        raise error(f"{what} lacks {sorted(missing)}")
    if unknown:
        raise error(f"{what} has unknown fields {sorted(unknown)}")
    return obj


def b64_field(value: object, what: str, error: ErrorFactory) -> bytes:
    if not isinstance(value, str):
        raise error(f"{what} must be a base64 string")
    try:
        return b64decode_strict(value)
    except StrictDecodeError as exc:
        raise error(f"{what}: {exc}") from exc


# --- dsse.py -------------------------------------------------------------------------------


def envelope_from_json(obj: object, *, max_payload_bytes: int) -> Envelope:
    fields = json_object(
        obj, "dsseEnvelope", {"payload", "payloadType", "signatures"}, set(), BundleFormatError
    )
    payload = b64_field(fields["payload"], "dsseEnvelope.payload", BundleFormatError)
    if len(payload) > max_payload_bytes:
        raise BundleFormatError(
            f"payload of {len(payload)} bytes exceeds the cap of {max_payload_bytes}",
            code=Code.BUNDLE_TOO_LARGE,
        )
    payload_type = fields["payloadType"]
    if not isinstance(payload_type, str):
        raise BundleFormatError("dsseEnvelope.payloadType must be a string")
    signatures = fields["signatures"]
    if not isinstance(signatures, list):
        raise BundleFormatError("dsseEnvelope.signatures must be a list")
    return Envelope(payload, payload_type, tuple(_signature_from_json(s) for s in signatures))


def _signature_from_json(obj: object) -> EnvelopeSignature:
    fields = json_object(obj, "dsseEnvelope.signatures[]", {"sig"}, {"keyid"}, BundleFormatError)
    keyid = fields.get("keyid", "")
    if not isinstance(keyid, str) or len(keyid) > ENVELOPE_LIMITS.max_keyid_chars:
        raise BundleFormatError(
            f"signature keyid must be a string of at most {ENVELOPE_LIMITS.max_keyid_chars}"
        )
    return EnvelopeSignature(b64_field(fields["sig"], "signature sig", BundleFormatError), keyid)


# --- tlog/entry.py -------------------------------------------------------------------------


def _exact_keys(value: object, required: set[str], optional: set[str], where: str) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object")
    keys = set(value)
    if missing := required - keys:
        raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown := keys - required - optional:
        raise ValueError(f"{where}: unknown field {', '.join(sorted(unknown))}")
    return value


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer, found {type(value).__name__}")
    if not 0 <= value <= JSON_LIMITS.max_exact_integer:
        raise ValueError(f"{where}: {value} is outside 0..2**53-1")
    return value


def _hash(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a base64 string")
    try:
        decoded = b64decode_strict(value)
    except StrictDecodeError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if len(decoded) != HASH_SIZE:
        raise ValueError(f"{where}: expected {HASH_SIZE} bytes, found {len(decoded)}")
    return decoded


def inclusion_proof_from_json(obj: object) -> InclusionProof:
    fields = {"logIndex", "treeSize", "rootHash", "hashes", "checkpoint"}
    proof = _exact_keys(obj, fields, set(), "inclusionProof")
    hashes = proof["hashes"]
    if not isinstance(hashes, list) or len(hashes) > TLOG_LIMITS.max_proof_hashes:
        raise ValueError(
            f"inclusionProof.hashes: expected a list of at most {TLOG_LIMITS.max_proof_hashes}"
        )
    checkpoint = _exact_keys(proof["checkpoint"], {"envelope"}, set(), "checkpoint")["envelope"]
    if not isinstance(checkpoint, str) or len(checkpoint.encode("utf-8")) > (
        TLOG_LIMITS.max_note_bytes
    ):
        raise ValueError(
            f"checkpoint.envelope: expected a string of at most {TLOG_LIMITS.max_note_bytes} bytes"
        )
    return InclusionProof(
        log_index=_integer(proof["logIndex"], "inclusionProof.logIndex"),
        tree_size=_integer(proof["treeSize"], "inclusionProof.treeSize"),
        root_hash=_hash(proof["rootHash"], "inclusionProof.rootHash"),
        hashes=tuple(_hash(item, "inclusionProof.hashes[]") for item in hashes),
        checkpoint=checkpoint,
    )


def tlog_entry_from_json(obj: object) -> TlogEntry:
    try:
        fields = {"logId", "logIndex", "integratedTime", "leafHash", "inclusionProof"}
        item = _exact_keys(obj, fields, set(), "tlogEntry")
        origin = _exact_keys(item["logId"], {"origin"}, set(), "logId")["origin"]
        if not isinstance(origin, str) or not origin:
            raise ValueError("logId.origin: expected a non-empty string")
        return TlogEntry(
            origin=origin,
            log_index=_integer(item["logIndex"], "logIndex"),
            integrated_time=_integer(item["integratedTime"], "integratedTime"),
            leaf_hash=_hash(item["leafHash"], "leafHash"),
            inclusion_proof=inclusion_proof_from_json(item["inclusionProof"]),
        )
    except ValueError as exc:
        raise BundleFormatError(f"malformed log entry: {exc}") from exc


# --- bundle.py (without the cache of parsed certificates) ----------------------------------


def bundle_from_bytes(data: bytes, limits: BundleLimits = DEFAULT_LIMITS) -> Bundle:
    try:
        obj = loads_strict(data, max_bytes=limits.max_bundle_bytes, max_depth=limits.max_depth)
    except TooLargeError as exc:
        raise BundleFormatError(f"bundle: {exc}", code=Code.BUNDLE_TOO_LARGE) from exc
    except StrictDecodeError as exc:
        raise BundleFormatError(f"bundle: {exc}") from exc
    return bundle_from_json(obj, limits)


def bundle_from_json(obj: object, limits: BundleLimits = DEFAULT_LIMITS) -> Bundle:
    media_type = obj.get("mediaType") if isinstance(obj, dict) else None
    if isinstance(media_type, str) and media_type != BUNDLE_MEDIA_TYPE:
        raise BundleFormatError(
            f"unsupported bundle mediaType {media_type!r}; this verifier reads {BUNDLE_MEDIA_TYPE}",
            code=Code.BUNDLE_UNSUPPORTED,
        )
    fields = json_object(
        obj,
        "bundle",
        {"mediaType", "verificationMaterial", "dsseEnvelope"},
        set(),
        BundleFormatError,
    )
    if not isinstance(media_type, str):
        raise BundleFormatError(
            f"bundle mediaType must be a string, found {type(media_type).__name__}"
        )
    envelope = envelope_from_json(
        fields["dsseEnvelope"], max_payload_bytes=limits.max_payload_bytes
    )
    return _with_material(envelope, fields["verificationMaterial"], limits)


def _with_material(envelope: Envelope, obj: object, limits: BundleLimits) -> Bundle:
    fields = json_object(
        obj,
        "verificationMaterial",
        {"tlogEntries"},
        {"x509CertificateChain", "publicKey"},
        BundleFormatError,
    )
    entries = fields["tlogEntries"]
    if not isinstance(entries, list) or len(entries) > limits.max_tlog_entries:
        raise BundleFormatError(
            f"tlogEntries must be a list of at most {limits.max_tlog_entries} entries"
        )
    hint = _public_key_hint(fields["publicKey"]) if "publicKey" in fields else None
    chain = fields.get("x509CertificateChain")
    certificates = _certificates(chain, limits) if "x509CertificateChain" in fields else ()
    return Bundle(
        envelope=envelope,
        certificates=certificates,
        public_key_hint=hint,
        tlog_entries=tuple(tlog_entry_from_json(e) for e in entries),
    )


def _public_key_hint(obj: object) -> str:
    hint = json_object(obj, "publicKey", {"hint"}, set(), BundleFormatError)["hint"]
    if not isinstance(hint, str) or not _KEY_ID.fullmatch(hint):
        raise BundleFormatError("publicKey.hint must be a key id of 64 lowercase hex digits")
    return hint


def _certificates(obj: object, limits: BundleLimits) -> tuple[x509.Certificate, ...]:
    items = json_object(obj, "x509CertificateChain", {"certificates"}, set(), BundleFormatError)[
        "certificates"
    ]
    if not isinstance(items, list) or not 1 <= len(items) <= limits.max_certificates:
        raise BundleFormatError(
            f"x509CertificateChain.certificates must hold 1 to {limits.max_certificates} certificates"
        )
    return tuple(_certificate(item, limits) for item in items)


def _certificate(obj: object, limits: BundleLimits) -> x509.Certificate:
    raw = json_object(obj, "certificate", {"rawBytes"}, set(), BundleFormatError)["rawBytes"]
    der = b64_field(raw, "certificate rawBytes", BundleFormatError)
    if len(der) > limits.max_certificate_bytes:
        raise BundleFormatError(
            f"certificate of {len(der)} bytes exceeds the cap of {limits.max_certificate_bytes}",
            code=Code.BUNDLE_TOO_LARGE,
        )
    try:
        return load_certificate_der(der)
    except ValueError as exc:
        raise BundleFormatError(f"certificate is not DER X.509: {exc}") from exc


# --- statement.py --------------------------------------------------------------------------


def _fail(message: str) -> BundleFormatError:
    return BundleFormatError(f"statement: {message}", code=Code.STATEMENT_MALFORMED)


def statement_from_payload(payload: bytes) -> Statement:
    try:
        obj = loads_strict(payload, max_bytes=STATEMENT_LIMITS.max_payload_bytes)
    except StrictDecodeError as exc:
        raise _fail(str(exc)) from exc
    return _statement_from_json(obj)


def validate_claims(claims: Any) -> dict[str, ClaimValue]:
    if len(claims) > STATEMENT_LIMITS.max_claims:
        raise _fail(f"at most {STATEMENT_LIMITS.max_claims} claims, found {len(claims)}")
    result: dict[str, ClaimValue] = {}
    for name, value in claims.items():
        if not isinstance(name, str) or not CLAIM_NAME.fullmatch(name):
            raise _fail(f"claim name {name!r} must match {CLAIM_NAME.pattern}")
        if not isinstance(value, str | bool | int):
            raise _fail(f"claim {name!r} must be a string, boolean or integer")
        if isinstance(value, str):
            _check_text(f"claim {name!r}", value)
        elif not isinstance(value, bool) and abs(value) > JSON_LIMITS.max_exact_integer:
            raise _fail(f"claim {name!r}: integer {value} is outside +-(2**53-1) (I-JSON)")
        result[name] = value
    return result


def _check_text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > STATEMENT_LIMITS.max_text_chars:
        raise _fail(
            f"{what} must be a non-empty string of at most {STATEMENT_LIMITS.max_text_chars} "
            "characters"
        )
    if _LONE_SURROGATE.search(value):
        raise _fail(f"{what} holds a lone surrogate (not Unicode text)")
    return value


def _check_fields(obj: object, what: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    return json_object(obj, what, required, optional, _fail)


def _sha256_of(obj: object, what: str) -> str:
    digest = _check_fields(obj, what, {"sha256"}, set())["sha256"]
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise _fail(f"{what}.sha256 must be 64 lowercase hex digits")
    return digest


def _statement_from_json(obj: object) -> Statement:
    fields = _check_fields(
        obj, "statement", {"_type", "subject", "predicateType", "predicate"}, set()
    )
    if fields["_type"] != STATEMENT_TYPE or fields["predicateType"] != PREDICATE_TYPE:
        raise BundleFormatError(
            f"statement: expected _type {STATEMENT_TYPE} and predicateType {PREDICATE_TYPE}, "
            f"found {fields['_type']!r} and {fields['predicateType']!r}",
            code=Code.STATEMENT_UNSUPPORTED,
        )
    subjects = fields["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise _fail("exactly one subject is required")
    subject = _check_fields(subjects[0], "subject", {"name", "digest"}, set())
    return Statement(
        subject_name=_check_text("subject.name", subject["name"]),
        subject_sha256=_sha256_of(subject["digest"], "subject.digest"),
        predicate=_predicate_from_json(fields["predicate"]),
    )


def _predicate_from_json(obj: object) -> ContentPredicate:
    fields = _check_fields(
        obj,
        "predicate",
        {"contentType", "canonicalization", "created", "claims", "ingredients"},
        {"author", "publisher"},
    )
    content_type = _check_text("predicate.contentType", fields["contentType"])
    if not CONTENT_TYPE.fullmatch(content_type):
        raise _fail(f"predicate.contentType {content_type!r} is not a media type")
    try:
        profile = Canonicalization(fields["canonicalization"])
    except ValueError as exc:
        raise BundleFormatError(
            f"statement: unknown canonicalization {fields['canonicalization']!r}; "
            f"known: {[p.value for p in Canonicalization]}",
            code=Code.STATEMENT_UNSUPPORTED,
        ) from exc
    if not isinstance(fields["claims"], dict):
        raise _fail("predicate.claims must be a JSON object")
    return ContentPredicate(
        content_type=content_type,
        canonicalization=profile,
        created=parse_time(fields["created"]),
        author=_author_from_json(fields["author"]) if "author" in fields else None,
        publisher=_optional_text("predicate.publisher", fields, "publisher"),
        claims=MappingProxyType(validate_claims(fields["claims"])),
        ingredients=_ingredients_from_json(fields["ingredients"]),
    )


def _optional_text(what: str, fields: dict[str, Any], key: str) -> str | None:
    return _check_text(what, fields[key]) if key in fields else None


def _author_from_json(obj: object) -> Author:
    fields = _check_fields(obj, "predicate.author", {"id"}, {"displayName"})
    return Author(
        id=_check_text("predicate.author.id", fields["id"]),
        display_name=_optional_text("predicate.author.displayName", fields, "displayName"),
    )


def _ingredients_from_json(obj: object) -> tuple[Ingredient, ...]:
    if not isinstance(obj, list) or len(obj) > STATEMENT_LIMITS.max_ingredients:
        raise _fail(
            f"predicate.ingredients must be a list of at most {STATEMENT_LIMITS.max_ingredients}"
        )
    result = []
    for item in obj:
        fields = _check_fields(item, "ingredient", {"digest"}, {"name"})
        result.append(
            Ingredient(
                sha256=_sha256_of(fields["digest"], "ingredient.digest"),
                name=_optional_text("ingredient.name", fields, "name"),
            )
        )
    return tuple(result)
