"""The in-toto Statement v1 with the project's content predicate v1.

The statement has exactly one subject, matched by its SHA-256 digest only. Its serialized form (the
DSSE payload) is the RFC 8785 (JCS) canonical JSON of :meth:`Statement.to_json`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import rfc8785

from provenance._records import quick_init
from provenance.codes import Code
from provenance.encoding import (
    JSON_LIMITS,
    StrictDecodeError,
    canonical_json,
    decode_json,
    has_lone_surrogate,
    json_object,
    loads_strict,
)
from provenance.errors import BundleFormatError
from provenance.text import Canonicalization

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://provenance-toolkit.dev/predicates/content/v1"


@dataclass(frozen=True)
class StatementLimits:
    """The caps of an in-toto statement of content (a bundle's payload).

    Attributes:
        max_payload_bytes: The statement's JSON.
        max_claims: Claims in the predicate.
        max_ingredients: Ingredients in the predicate.
        max_text_chars: A text field (title, author display name, publisher, ...).
    """

    max_payload_bytes: int = 64 * 1024
    max_claims: int = 64
    max_ingredients: int = 64
    max_text_chars: int = 1024


STATEMENT_LIMITS = StatementLimits()


SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
CLAIM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(;.{0,200})?$")
RFC3339_UTC = "%Y-%m-%dT%H:%M:%SZ"
_RFC3339_UTC_DIGITS = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z"
)
"""The only form of a time (bundle-v1 §2), as :func:`format_time` writes it. Not ``strptime``:
it reads one-digit fields, non-ASCII digits and a lower-case ``t`` or ``z``."""
_RFC3339_UTC_CLOCK = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z"
)
""":data:`_RFC3339_UTC_DIGITS` with a time of day of the clock (00:00:00 to 23:59:59), which
``datetime.fromisoformat`` reads as ``datetime(...)`` reads the fields (a newer Python may read
``24:00:00`` as the next day's midnight; the fields path refuses it)."""

ClaimValue = str | bool | int

_PROFILES = {profile.value: profile for profile in Canonicalization}
_NONE: frozenset[str] = frozenset()
_DIGEST_FIELDS = frozenset({"sha256"})
_STATEMENT_FIELDS = frozenset({"_type", "subject", "predicateType", "predicate"})
_SUBJECT_FIELDS = frozenset({"name", "digest"})
_PREDICATE_FIELDS = frozenset(
    {"contentType", "canonicalization", "created", "claims", "ingredients"}
)
_PREDICATE_OPTIONAL = frozenset({"author", "publisher"})
_AUTHOR_FIELDS = frozenset({"id"})
_AUTHOR_OPTIONAL = frozenset({"displayName"})
_INGREDIENT_FIELDS = frozenset({"digest"})
_INGREDIENT_OPTIONAL = frozenset({"name"})


def _fail(message: str) -> BundleFormatError:
    return BundleFormatError(f"statement: {message}", code=Code.STATEMENT_MALFORMED)


@quick_init
@dataclass(frozen=True)
class Author:
    """The author as attested by the signer (an account URI or email, and a display name)."""

    id: str
    display_name: str | None = None


@quick_init
@dataclass(frozen=True)
class Ingredient:
    """Content this content was made from, named by digest."""

    sha256: str
    name: str | None = None


@quick_init
@dataclass(frozen=True)
class ContentPredicate:
    """The content predicate v1 (see specs/bundle-v1.md)."""

    content_type: str
    canonicalization: Canonicalization
    created: datetime
    author: Author | None = None
    publisher: str | None = None
    claims: Mapping[str, ClaimValue] = field(default_factory=lambda: MappingProxyType({}))
    ingredients: tuple[Ingredient, ...] = ()


@quick_init
@dataclass(frozen=True)
class Statement:
    """An in-toto Statement v1 about one piece of content."""

    subject_name: str
    subject_sha256: str
    predicate: ContentPredicate

    def to_json(self) -> dict[str, Any]:
        """The statement as a JSON object."""
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.subject_name, "digest": {"sha256": self.subject_sha256}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": _predicate_to_json(self.predicate),
        }

    def to_payload(self) -> bytes:
        """The canonical (RFC 8785) serialization that goes into the envelope.

        Raises:
            BundleFormatError: ``statement.malformed`` for a value JCS cannot write (an integer
                beyond +-(2**53-1), a string with a lone surrogate).
        """
        try:
            return canonical_json(self.to_json())  # RFC 8785; fast for plain values
        except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:
            raise _fail(f"cannot be serialized as RFC 8785 JSON: {exc}") from exc

    @classmethod
    def from_payload(cls, payload: bytes) -> Statement:
        """Parse a payload strictly.

        Raises:
            BundleFormatError: ``statement.malformed`` (or ``statement.unsupported`` for an
                unknown statement or predicate type).
        """
        if type(payload) is bytes and len(payload) <= STATEMENT_LIMITS.max_payload_bytes:
            statement = _read_fast(payload)
            if statement is not None:
                return statement
        try:
            obj = loads_strict(payload, max_bytes=STATEMENT_LIMITS.max_payload_bytes)
        except StrictDecodeError as exc:
            raise _fail(str(exc)) from exc
        return _statement_from_json(obj)


def validate_claims(claims: Mapping[str, Any]) -> dict[str, ClaimValue]:
    """Check claim names and values (str, bool or int) and return them as a plain dict.

    Raises:
        BundleFormatError: ``statement.malformed`` naming the offending claim.
    """
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


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with second precision (``2026-01-31T12:00:00Z``)."""
    return moment.astimezone(UTC).strftime(RFC3339_UTC)


def parse_time(text: str) -> datetime:
    """Parse a time of exactly bundle-v1 §2's form, ``YYYY-MM-DDTHH:MM:SSZ`` (what
    :func:`format_time` writes): ASCII digits, two of each field but the year's four, upper-case
    ``T`` and ``Z``, a real date and time of day (no leap second).

    Raises:
        BundleFormatError: ``statement.malformed``, not of that exact form.
    """
    if type(text) is str and _RFC3339_UTC_CLOCK.fullmatch(text):
        try:
            return datetime.fromisoformat(text)  # the form: tzinfo is UTC
        except ValueError:
            pass  # not a real date: the error below
    fields = _RFC3339_UTC_DIGITS.fullmatch(text) if isinstance(text, str) else None
    try:
        if fields is None:
            raise ValueError("not of the form")
        year, month, day, hour, minute, second = map(int, fields.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise _fail(f"time {text!r} is not RFC 3339 UTC like 2026-01-31T12:00:00Z") from exc


def _predicate_to_json(predicate: ContentPredicate) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "contentType": predicate.content_type,
        "canonicalization": predicate.canonicalization.value,
        "created": format_time(predicate.created),
        "claims": dict(predicate.claims),
        "ingredients": [_ingredient_to_json(i) for i in predicate.ingredients],
    }
    if predicate.author is not None:
        author: dict[str, str] = {"id": predicate.author.id}
        if predicate.author.display_name is not None:
            author["displayName"] = predicate.author.display_name
        obj["author"] = author
    if predicate.publisher is not None:
        obj["publisher"] = predicate.publisher
    return obj


def _ingredient_to_json(ingredient: Ingredient) -> dict[str, Any]:
    obj: dict[str, Any] = {"digest": {"sha256": ingredient.sha256}}
    if ingredient.name is not None:
        obj["name"] = ingredient.name
    return obj


def _check_text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > STATEMENT_LIMITS.max_text_chars:
        raise _fail(
            f"{what} must be a non-empty string of at most {STATEMENT_LIMITS.max_text_chars} "
            "characters"
        )
    if not value.isascii() and has_lone_surrogate(value):
        raise _fail(f"{what} holds a lone surrogate (not Unicode text)")
    return value


def _sha256_of(obj: object, what: str) -> str:
    digest = json_object(obj, what, _DIGEST_FIELDS, _NONE, _fail)["sha256"]
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise _fail(f"{what}.sha256 must be 64 lowercase hex digits")
    return digest


def _statement_from_json(obj: object) -> Statement:
    fields = json_object(obj, "statement", _STATEMENT_FIELDS, _NONE, _fail)
    if fields["_type"] != STATEMENT_TYPE or fields["predicateType"] != PREDICATE_TYPE:
        raise BundleFormatError(
            f"statement: expected _type {STATEMENT_TYPE} and predicateType {PREDICATE_TYPE}, "
            f"found {fields['_type']!r} and {fields['predicateType']!r}",
            code=Code.STATEMENT_UNSUPPORTED,
        )
    subjects = fields["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise _fail("exactly one subject is required")
    subject = json_object(subjects[0], "subject", _SUBJECT_FIELDS, _NONE, _fail)
    return Statement(
        subject_name=_check_text("subject.name", subject["name"]),
        subject_sha256=_sha256_of(subject["digest"], "subject.digest"),
        predicate=_predicate_from_json(fields["predicate"]),
    )


def _predicate_from_json(obj: object) -> ContentPredicate:
    fields = json_object(obj, "predicate", _PREDICATE_FIELDS, _PREDICATE_OPTIONAL, _fail)
    content_type = _check_text("predicate.contentType", fields["contentType"])
    if not CONTENT_TYPE.fullmatch(content_type):
        raise _fail(f"predicate.contentType {content_type!r} is not a media type")
    name = fields["canonicalization"]
    try:
        profile = (
            _PROFILES[name] if type(name) is str and name in _PROFILES else Canonicalization(name)
        )
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


def _optional_text(what: str, fields: Mapping[str, object], key: str) -> str | None:
    """``fields[key]`` checked as text, or None when absent (present, it is never ``null``)."""
    return _check_text(what, fields[key]) if key in fields else None


def _author_from_json(obj: object) -> Author:
    fields = json_object(obj, "predicate.author", _AUTHOR_FIELDS, _AUTHOR_OPTIONAL, _fail)
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
        fields = json_object(item, "ingredient", _INGREDIENT_FIELDS, _INGREDIENT_OPTIONAL, _fail)
        result.append(
            Ingredient(
                sha256=_sha256_of(fields["digest"], "ingredient.digest"),
                name=_optional_text("ingredient.name", fields, "name"),
            )
        )
    return tuple(result)


# --- the common statement in one pass -----------------------------------------------------------

_SUBJECT_PAIRS = 7
"""The statement's 4 pairs, its subject's 2 and the subject digest's 1."""
_TYPE_COLONS = STATEMENT_TYPE.count(":") + PREDICATE_TYPE.count(":")


def _read_fast(payload: bytes) -> Statement | None:
    """:meth:`Statement.from_payload` of a well-formed statement, read by ``decode_json`` and checked in
    one pass; None for anything else (the general path then answers, with its errors). It
    never refuses: what it returns the general path returns too.

    As for bundles (:func:`provenance.bundle._read_fast`): every value has its exact type, the
    nesting is the shape's (5 levels, under the cap of 32), and with no ``\\u`` escape the
    text's colons are exactly the pairs of the shape and the colons of its strings only when no
    key was read twice.
    """
    if b"\\" in payload and b"\\u" in payload:  # a backslash is rare: found by memchr
        return None
    try:
        obj = decode_json(payload)
    except ValueError:
        return None
    if type(obj) is not dict or obj.keys() != _STATEMENT_FIELDS:
        return None
    subjects, fields = obj["subject"], obj["predicate"]
    if obj["_type"] != STATEMENT_TYPE or obj["predicateType"] != PREDICATE_TYPE:
        return None
    subject = _subject_fast(subjects)
    predicate = _predicate_fast(fields) if type(fields) is dict else None
    if subject is None or predicate is None:
        return None
    statement = Statement(subject[0], subject[1], predicate)
    if payload.count(b":") != _colons(statement, len(fields)):
        return None
    return statement


def _subject_fast(subjects: object) -> tuple[str, str] | None:
    """The name and digest of a well-formed ``subject`` list of one subject, else None."""
    if type(subjects) is not list or len(subjects) != 1:
        return None
    subject = subjects[0]
    if type(subject) is not dict or subject.keys() != _SUBJECT_FIELDS:
        return None
    name, digest = subject["name"], subject["digest"]
    if not _is_text(name) or type(digest) is not dict or digest.keys() != _DIGEST_FIELDS:
        return None
    sha256 = digest["sha256"]
    if type(sha256) is not str or not SHA256_HEX.fullmatch(sha256):
        return None
    return name, sha256


def _is_text(value: object) -> bool:
    """Whether :func:`_check_text` accepts ``value``."""
    return (
        type(value) is str
        and 0 < len(value) <= STATEMENT_LIMITS.max_text_chars
        and (value.isascii() or not has_lone_surrogate(value))
    )


def _predicate_fast(fields: dict[str, Any]) -> ContentPredicate | None:
    """:func:`_predicate_from_json` of a well-formed predicate, else None."""
    keys = fields.keys()
    if not (keys >= _PREDICATE_FIELDS and keys - _PREDICATE_FIELDS <= _PREDICATE_OPTIONAL):
        return None
    content_type, name = fields["contentType"], fields["canonicalization"]
    claims, ingredients = fields["claims"], fields["ingredients"]
    author, publisher = fields.get("author"), fields.get("publisher")
    if ("author" in fields and author is None) or ("publisher" in fields and publisher is None):
        return None
    if (
        not _is_text(content_type)
        or not CONTENT_TYPE.fullmatch(content_type)
        or type(name) is not str
        or name not in _PROFILES
        or type(claims) is not dict
        or type(ingredients) is not list
        or not (publisher is None or _is_text(publisher))
    ):
        return None
    if author is not None:
        author = _author_fast(author)
        if author is None:
            return None
    try:
        return ContentPredicate(
            content_type,
            _PROFILES[name],
            parse_time(fields["created"]),
            author,
            publisher,
            MappingProxyType(validate_claims(claims)),
            _ingredients_from_json(ingredients) if ingredients else (),
        )
    except BundleFormatError:
        return None


def _author_fast(obj: object) -> Author | None:
    """:func:`_author_from_json` of a well-formed author, else None."""
    if type(obj) is not dict:
        return None
    keys = obj.keys()
    if keys not in (_AUTHOR_FIELDS, _AUTHOR_WITH_NAME):
        return None
    author_id, name = obj["id"], obj.get("displayName")
    if not _is_text(author_id) or not ((name is None and keys == _AUTHOR_FIELDS) or _is_text(name)):
        return None
    return Author(author_id, name)


_AUTHOR_WITH_NAME = _AUTHOR_FIELDS | _AUTHOR_OPTIONAL


_TIME_COLONS = 2
"""The colons of a time of bundle-v1 §2's one form (``2026-01-31T12:00:00Z``)."""


def _colons(statement: Statement, predicate_pairs: int) -> int:
    """The colons of the text of ``statement`` read by :func:`_read_fast` (its predicate of
    ``predicate_pairs`` pairs): one per pair, and those of its strings."""
    predicate = statement.predicate
    author, publisher = predicate.author, predicate.publisher
    colons = _SUBJECT_PAIRS + predicate_pairs + len(predicate.claims) + _TYPE_COLONS
    colons += _TIME_COLONS + statement.subject_name.count(":") + predicate.content_type.count(":")
    if author is not None:
        colons += 1 + author.id.count(":")
        if author.display_name is not None:
            colons += 1 + author.display_name.count(":")
    if publisher is not None:
        colons += publisher.count(":")
    for value in predicate.claims.values():
        if type(value) is str:
            colons += value.count(":")
    for ingredient in predicate.ingredients:
        colons += 2  # its digest and the digest's sha256
        if ingredient.name is not None:
            colons += 1 + ingredient.name.count(":")
    return colons
