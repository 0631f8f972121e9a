"""The OMS v1.0 in-toto statement: build it from a manifest, parse it strictly.

Parsing follows the OMS schemas (statement, predicate) with the project's strictness: exact field
sets, lowercase hex digests of the hash's size, canonical relative resource paths, unique names,
and a subject digest equal to SHA-256 over the listed resource digests in their listed order (as
the reference implementation checks). Unknown predicate types, methods and hash types are
``statement.unsupported``; everything else wrong is ``statement.malformed``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import rfc8785

from provenance.codes import Code
from provenance.encoding import JSON_LIMITS, StrictDecodeError, json_object, loads_strict
from provenance.errors import BundleFormatError
from provenance.model.limits import MODEL_SIZE_LIMITS
from provenance.model.serialize import (
    HASH_TYPES,
    SINGLE_FILE_NAME,
    Manifest,
    ModelPathError,
    Resource,
    Serialization,
    check_relative,
    root_digest,
)

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
OFFSET = re.compile(r"^(0|[1-9][0-9]{0,18})$")


def _fail(message: str) -> BundleFormatError:
    return BundleFormatError(f"statement: {message}", code=Code.STATEMENT_MALFORMED)


def _unsupported(message: str) -> BundleFormatError:
    return BundleFormatError(f"statement: {message}", code=Code.STATEMENT_UNSUPPORTED)


@dataclass(frozen=True)
class ModelStatement:
    """A parsed OMS statement: the model's name and root digest, its resources, its serialization."""

    model_name: str
    root_digest: str
    resources: tuple[Resource, ...]
    serialization: Serialization


def statement_json(manifest: Manifest) -> dict[str, Any]:
    """The OMS in-toto statement for ``manifest``."""
    hash_type = manifest.serialization.hash_type
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "resources": [
                {"name": r.name, "digest": r.digest.hex(), "algorithm": hash_type}
                for r in manifest.resources
            ],
            "serialization": manifest.serialization.to_json(),
        },
    }


def statement_payload(manifest: Manifest) -> bytes:
    """The DSSE payload: the statement's RFC 8785 canonical JSON.

    Raises:
        BundleFormatError: ``bundle.too_large``: more resources than ``max_resources``, or a
            statement over ``max_payload_bytes`` (no verifier would read the signature).
    """
    caps = MODEL_SIZE_LIMITS
    if len(manifest.resources) > caps.max_resources:
        raise BundleFormatError(
            f"the model has {len(manifest.resources)} files or shards; a signature lists at most "
            f"{caps.max_resources} (model-v1 §8)",
            code=Code.BUNDLE_TOO_LARGE,
        )
    payload: bytes = rfc8785.dumps(statement_json(manifest))
    if len(payload) > caps.max_payload_bytes:
        raise BundleFormatError(
            f"the statement is {len(payload)} bytes; a signature's statement is at most "
            f"{caps.max_payload_bytes} (model-v1 §8: shorter file names, or fewer files)",
            code=Code.BUNDLE_TOO_LARGE,
        )
    return payload


def parse_statement(payload: bytes) -> ModelStatement:
    """Parse an OMS statement payload strictly.

    Raises:
        BundleFormatError: ``statement.malformed`` or ``statement.unsupported``.
    """
    try:
        obj = loads_strict(payload, max_bytes=MODEL_SIZE_LIMITS.max_payload_bytes)
    except StrictDecodeError as exc:
        raise _fail(str(exc)) from exc
    fields = json_object(
        obj, "statement", {"_type", "subject", "predicateType", "predicate"}, set(), _fail
    )
    if fields["_type"] != STATEMENT_TYPE or fields["predicateType"] != PREDICATE_TYPE:
        raise _unsupported(
            f"expected _type {STATEMENT_TYPE} and predicateType {PREDICATE_TYPE}, found "
            f"{fields['_type']!r} and {fields['predicateType']!r}"
        )
    name, subject_digest = _subject(fields["subject"])
    predicate = json_object(
        fields["predicate"], "predicate", {"resources", "serialization"}, set(), _fail
    )
    serialization = parse_serialization(
        predicate["serialization"], exact_shard_size=_exact_shard_size(payload, predicate)
    )
    resources = _resources(predicate["resources"], serialization)
    listed = root_digest(r.digest for r in resources)
    if listed != subject_digest:
        raise _fail(
            f"the subject digest {subject_digest} is not the SHA-256 of the listed resource "
            f"digests ({listed})"
        )
    return ModelStatement(name, subject_digest, resources, serialization)


def _subject(obj: object) -> tuple[str, str]:
    if not isinstance(obj, list) or len(obj) != 1:
        raise _fail("exactly one subject is required")
    subject = json_object(obj[0], "subject", {"name", "digest"}, set(), _fail)
    name = subject["name"]
    if not isinstance(name, str) or not name or len(name) > MODEL_SIZE_LIMITS.max_name_chars:
        raise _fail(
            f"subject.name must be a non-empty string of at most {MODEL_SIZE_LIMITS.max_name_chars}"
        )
    digest = json_object(subject["digest"], "subject.digest", {"sha256"}, set(), _fail)["sha256"]
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise _fail("subject.digest.sha256 must be 64 lowercase hex digits")
    return name, digest


def _exact_shard_size(payload: bytes, predicate: dict[str, Any]) -> Decimal | None:
    """The exact value of a ``shard_size`` the strict parse read as a float, read again from the
    (already strictly parsed) payload as a decimal; ``None`` for any other ``shard_size``."""
    serialization = predicate["serialization"]
    if not isinstance(serialization, dict) or not isinstance(
        serialization.get("shard_size"), float
    ):
        return None
    exact = json.loads(payload, parse_float=Decimal)["predicate"]["serialization"]["shard_size"]
    return exact if isinstance(exact, Decimal) else None


def parse_serialization(obj: object, *, exact_shard_size: Decimal | None = None) -> Serialization:
    """Parse the predicate's ``serialization`` object.

    A ``shard_size`` written as a number with a fraction or exponent (the reference writes
    ``1000000000.0``) is accepted when the decimal its literal denotes is an integer, which the
    float the parse made of it cannot tell (``2.9999999999999999`` reads as ``3.0``): only with
    ``exact_shard_size``, the literal's exact value; without it such a ``shard_size`` is refused.

    Raises:
        BundleFormatError: ``statement.malformed`` or ``statement.unsupported``.
    """
    fields = json_object(
        obj,
        "serialization",
        {"method", "hash_type", "allow_symlinks"},
        {"shard_size", "ignore_paths"},
        _fail,
    )
    method, hash_type = fields["method"], fields["hash_type"]
    if method not in ("files", "shards"):
        raise _unsupported(f"serialization.method {method!r} is not files or shards")
    if hash_type not in HASH_TYPES:
        raise _unsupported(
            f"serialization.hash_type {hash_type!r} is not supported; supported: "
            f"{sorted(HASH_TYPES)}"
        )
    if not isinstance(fields["allow_symlinks"], bool):
        raise _fail("serialization.allow_symlinks must be a boolean")
    shard_size = _shard_size(fields.get("shard_size"), method, exact_shard_size)
    return Serialization(
        method=method,
        hash_type=hash_type,
        shard_size=shard_size,
        ignore_paths=_ignore_paths(fields.get("ignore_paths", [])),
        allow_symlinks=fields["allow_symlinks"],
    )


def _shard_size(value: object, method: str, exact: Decimal | None) -> int | None:
    if method == "files":
        if value is not None:
            raise _fail("serialization.shard_size must be absent for the files method")
        return None
    # The reference implementation 1.1.1 writes shard_size as a float (1000000000.0); JSON
    # Schema's "integer" accepts any number whose value has a zero fractional part: the value of
    # the literal, exact, not of the float it rounds to.
    if isinstance(value, float):
        if exact is not None and exact == exact.to_integral_value():
            value = int(exact)
        elif exact is not None:
            value = exact
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 < value <= JSON_LIMITS.max_exact_integer
    ):
        raise _fail(
            "serialization.shard_size must be an integer from 1 to "
            f"{JSON_LIMITS.max_exact_integer} for the "
            f"shards method, found {_literal(value)}"
        )
    return value


def _literal(value: object) -> str:
    """A found value as an error shows it (a decimal as its literal, else its repr), capped."""
    return (str(value) if isinstance(value, Decimal) else repr(value))[:64]


def _ignore_paths(obj: object) -> tuple[str, ...]:
    if not isinstance(obj, list) or len(obj) > MODEL_SIZE_LIMITS.max_ignore_paths:
        raise _fail(
            "serialization.ignore_paths must be a list of at most "
            f"{MODEL_SIZE_LIMITS.max_ignore_paths}"
        )
    paths = []
    for item in obj:
        if not isinstance(item, str) or len(item) > MODEL_SIZE_LIMITS.max_name_chars:
            raise _fail("serialization.ignore_paths holds a non-string or overlong entry")
        try:
            paths.append(check_relative(item, "ignore path"))
        except ModelPathError as exc:
            raise _fail(str(exc)) from exc
    return tuple(paths)


def _resources(obj: object, serialization: Serialization) -> tuple[Resource, ...]:
    if not isinstance(obj, list) or len(obj) > MODEL_SIZE_LIMITS.max_resources:
        raise _fail(
            f"predicate.resources must be a list of at most {MODEL_SIZE_LIMITS.max_resources} items"
        )
    algorithms = {serialization.hash_type}
    if serialization.shard_size is not None:
        # The reference implementation names a shard's algorithm "<hash>-sharded-<shard size>".
        algorithms.add(f"{serialization.hash_type}-sharded-{serialization.shard_size}")
    size = HASH_TYPES[serialization.hash_type]
    resources = [_resource(item, serialization, algorithms, size) for item in obj]
    seen: set[str] = set()
    for resource in resources:
        if resource.name in seen:
            raise _fail(f"resource {resource.name!r} is listed twice")
        seen.add(resource.name)
    if any(r.path == SINGLE_FILE_NAME for r in resources) and len({r.path for r in resources}) > 1:
        raise _fail("a single-file model's resource '.' cannot be listed with other files")
    _check_empty_files(resources)
    return tuple(resources)


def _check_empty_files(resources: list[Resource]) -> None:
    """An empty file's ``path:0:0`` is the only resource of its path."""
    empty = {r.path for r in resources if r.start == r.end == 0}
    if empty:
        counts = Counter(r.path for r in resources if r.path in empty)
        for path, count in sorted(counts.items()):
            if count > 1:
                raise _fail(f"shard resource {path + ':0:0'!r} is listed with other shards")


def _resource(
    obj: object, serialization: Serialization, algorithms: set[str], size: int
) -> Resource:
    fields = json_object(obj, "resource", {"name", "digest", "algorithm"}, set(), _fail)
    name, digest, algorithm = fields["name"], fields["digest"], fields["algorithm"]
    if not isinstance(name, str) or len(name) > MODEL_SIZE_LIMITS.max_name_chars:
        raise _fail(
            f"resource name must be a string of at most {MODEL_SIZE_LIMITS.max_name_chars} "
            "characters"
        )
    if algorithm not in algorithms:
        raise _fail(
            f"resource {name!r}: algorithm {algorithm!r} differs from the serialization's "
            f"hash_type {serialization.hash_type!r}"
        )
    if not isinstance(digest, str) or not re.fullmatch(f"[0-9a-f]{{{2 * size}}}", digest):
        raise _fail(f"resource {name!r}: digest must be {2 * size} lowercase hex digits")
    if serialization.method == "files":
        return Resource(_path(name), bytes.fromhex(digest))
    return _shard(name, bytes.fromhex(digest), serialization)


def _path(name: str) -> str:
    if name == SINGLE_FILE_NAME:
        return name
    try:
        return check_relative(name, "resource")
    except ModelPathError as exc:
        raise _fail(str(exc)) from exc


def _shard(name: str, digest: bytes, serialization: Serialization) -> Resource:
    path, sep1, start_text = name.rpartition(":")
    path, sep2, end_text = path.rpartition(":")
    start_text, end_text = end_text, start_text
    if not (sep1 and sep2 and OFFSET.fullmatch(start_text) and OFFSET.fullmatch(end_text)):
        raise _fail(f"shard resource {name!r} is not path:start:end with decimal offsets")
    start, end = int(start_text), int(end_text)
    assert serialization.shard_size is not None
    if start == end == 0:
        return _empty_file(name, path, digest, serialization.hash_type)
    if not start < end <= start + serialization.shard_size:
        raise _fail(
            f"shard resource {name!r}: expected start < end <= start + shard_size "
            f"({serialization.shard_size}), or 0:0 for an empty file"
        )
    return Resource(_path(path), digest, start, end)


def _empty_file(name: str, path: str, digest: bytes, hash_type: str) -> Resource:
    """``path:0:0``: an empty file, whose digest is the hash of no bytes."""
    if digest != hashlib.new(hash_type).digest():
        raise _fail(f"shard resource {name!r}: expected the {hash_type} digest of no bytes")
    return Resource(_path(path), digest, 0, 0)
