"""The strict parsers of bundles, statements and JSON agree with the parsers they replaced
(tests/property/parse_reference.py): for generated and mutated inputs both accept with equal
values, or both refuse with the same code and message."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provenance import encoding
from provenance.bundle import DEFAULT_LIMITS, Bundle, BundleLimits
from provenance.encoding import (
    StrictDecodeError,
    b64decode_strict,
    loads_strict,
)
from provenance.errors import BundleFormatError
from provenance.keys import Ed25519SigningKey
from provenance.statement import Statement
from provenance.tlog.entry import InclusionProof, TlogEntry
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from tests.factories import certified_author, make_authority, sign
from tests.property import parse_reference as reference

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ORIGIN = "parse.example/log"
_LOG = TransparencyLog(
    MemoryStore(), NoteSigner(ORIGIN, Ed25519SigningKey(bytes(32))), ORIGIN, lambda: 1_780_315_200
)
for _ in range(5):  # a proof of a few hashes
    sign(certified_author(make_authority()).key, log=_LOG)
_AUTHOR = certified_author(make_authority())
GOOD_BUNDLE = sign(_AUTHOR.key, chain=_AUTHOR.chain, log=_LOG, claims={"stars": 5, "ok": True})
GOOD = json.loads(GOOD_BUNDLE.to_bytes())
PAYLOAD = json.loads(GOOD_BUNDLE.envelope.payload)


def _outcome(action: Callable[[], object]) -> object:
    """The value, or the refusal's class, code and message."""
    try:
        return ("value", action())
    except StrictDecodeError as exc:
        return ("refused", type(exc).__name__, str(exc))
    except BundleFormatError as exc:
        return ("refused", type(exc).__name__, exc.code, str(exc))
    except ValueError as exc:  # InclusionProof.from_json's, which its caller wraps
        return ("refused", type(exc).__name__, str(exc))


def _same(new: Callable[[], object], old: Callable[[], object]) -> Any:
    fast, general = _outcome(new), _outcome(old)
    assert repr(fast) == repr(general)
    assert fast == general
    return fast


def _loads_agree(data: bytes | str, max_depth: int = 32, surrogates: bool = False) -> Any:
    def run(loads: Any) -> Callable[[], object]:
        return lambda: loads(
            data, max_bytes=1 << 16, max_depth=max_depth, allow_lone_surrogates=surrogates
        )

    return _same(run(loads_strict), run(reference.loads_strict))


# --- JSON ----------------------------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "a:b", ":", "é", "\u2028", "😀", "k\\", '"', "\x00"])
_STRINGS = st.text(max_size=12) | _KEYS
_NUMBERS = st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _STRINGS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_STRINGS, children, max_size=4)
    ),
    max_leaves=25,
)
_SPLICES = st.sampled_from(
    [
        '"a":1,',
        '"a":',
        '"\\u003a":0,',
        '"\\u003A":":",',
        ":",
        "\\u003a",
        "\\u2014",
        "\\u0030",
        "\\ud800",
        "\\udc00",
        "\\ud83d\\ude00",
        "\\ud83d",
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "9007199254740992",
        "-9007199254740992",
        "9007199254740991",
        "18446744073709551616",
        "-9223372036854775809",
        "1" * 41,
        "1.5",
        "-0",
        "-0.0",
        "1E2",
        "01",
        "[",
        "]",
        "{",
        "}",
        ",",
        '"',
        "\\",
        "\ufeff",
        "\x00",
        "\x1f",
        "\t",
        "\x0c",
        "\u00a0",
        "\xed",
        "true",
        "nul",
    ]
)


def _dumped(value: Any, indent: int | None, ascii_only: bool) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ascii_only)


@SETTINGS
@given(json_values, st.sampled_from([None, 0, 2]), st.booleans(), st.integers(1, 34), st.booleans())
def test_generated_json_parses_as_before(
    value: Any, indent: int | None, ascii_only: bool, depth: int, surrogates: bool
) -> None:
    text = _dumped(value, indent, ascii_only)
    _loads_agree(text.encode("utf-8", "surrogatepass"), depth, surrogates)
    _loads_agree(text, depth, surrogates)


@SETTINGS
@given(json_values, st.data(), st.integers(1, 34), st.booleans())
def test_spliced_json_parses_or_is_refused_as_before(
    value: Any, data: st.DataObject, depth: int, surrogates: bool
) -> None:
    text = _dumped(value, None, data.draw(st.booleans()))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(_SPLICES) + text[at:]
    _loads_agree(text.encode("utf-8", "surrogatepass"), depth, surrogates)


@SETTINGS
@given(st.binary(max_size=64) | st.text('{}[]:,"\\u0123456789.eE-+ atrufnl', max_size=40))
def test_arbitrary_input_parses_or_is_refused_as_before(data: bytes | str) -> None:
    _loads_agree(data)
    _loads_agree(data, 2, True)


@SETTINGS
@given(
    st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)
)
@example("1.7976931348623157e308")
@example("1.7976931348623158e308")
@example("1.7976931348623159e308")
@example("2.4703282292062327e-324")
@example("2.4703282292062328e-324")
@example("9007199254740993")
@example("-9223372036854775808")
@example("18446744073709551615")
def test_numbers_read_as_before(literal: str) -> None:
    _loads_agree(f"[{literal}]")
    _loads_agree(f'{{"n":{literal}}}')


@pytest.mark.parametrize("depth", [1, 2, 15, 16, 17, 32, 33, 1100])
@pytest.mark.parametrize("shape", ["[{}]", '{"a":[]}'])
def test_nesting_is_capped_as_before(depth: int, shape: str) -> None:
    opening, closing = shape[: len(shape) // 2], shape[len(shape) // 2 :]
    text = opening * depth + closing * depth
    for cap in (16, 32, 2 * depth, 4 * depth):
        _loads_agree(text, cap)


def test_duplicate_keys_behind_escaped_colons_are_refused() -> None:
    text = '{"a":"x","a":"\\u003a"}'
    outcome = _loads_agree(text)
    assert outcome == ("refused", "StrictDecodeError", "duplicate JSON key 'a'")


def test_duplicate_keys_beside_escaped_non_ascii_are_refused() -> None:
    text = '{"a":"\\u2014","a":1}'
    outcome = _loads_agree(text)
    assert outcome == ("refused", "StrictDecodeError", "duplicate JSON key 'a'")


def test_escapes_of_decimal_digits_other_than_a_colon_are_read_by_orjson() -> None:
    # \u2014 (the em dash of every signed checkpoint, escaped by clients that write ASCII JSON)
    # once read as an escaped colon and sent every such body to the step-by-step parser.
    text = b'{"note":"\\u2014 log","digit":"\\u0030"}'
    assert encoding._loads_fast(text, 32) == {"note": "\u2014 log", "digit": "0"}
    assert encoding._loads_fast(b'{"a":"\\u003a"}', 32) is encoding._NOT_FAST
    assert encoding._loads_fast(b'{"a":"\\u003A"}', 32) is encoding._NOT_FAST


# --- base64 --------------------------------------------------------------------------------


def test_every_short_base64_text_decodes_as_before() -> None:
    for length in range(10):
        for letters in itertools.product("AQgwB=+/-_ ", repeat=min(length, 5)):
            variable = "".join(letters)
            fixed = "A" * max(0, length - 5)
            for text in {variable + fixed, fixed + variable}:
                _same(partial(b64decode_strict, text), partial(reference.b64decode_strict, text))


@SETTINGS
@given(st.binary(max_size=40), st.integers(0, 63), st.sampled_from(["", "=", "==", "\n", "é"]))
def test_base64_with_changed_bits_decodes_as_before(data: bytes, bits: int, tail: str) -> None:
    text = base64.b64encode(data).decode()
    stripped = text.rstrip("=")
    if stripped:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        changed = stripped[:-1] + alphabet[bits] + text[len(stripped) :]
        for candidate in (changed, changed + tail, text + tail, stripped):
            _same(
                partial(b64decode_strict, candidate), partial(reference.b64decode_strict, candidate)
            )


# --- bundles and statements ----------------------------------------------------------------


def _bundles_agree(data: bytes, limits: BundleLimits = DEFAULT_LIMITS) -> Any:
    return _same(
        lambda: Bundle.from_bytes(data, limits), lambda: reference.bundle_from_bytes(data, limits)
    )


def _statements_agree(data: bytes) -> Any:
    return _same(
        lambda: Statement.from_payload(data), lambda: reference.statement_from_payload(data)
    )


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*path, index)))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = value.copy()
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _removed(value: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        copy = value.copy()
        del copy[path[0]]
        return copy
    return _replaced(value, path[:1], _removed(value[path[0]], path[1:]))


_B64 = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
_JUNK = json_values | st.sampled_from(
    [
        _B64,
        _B64[:-2] + "B=",
        _B64[:-1],
        _B64.replace("=", ""),
        _B64 + "==",
        " " + _B64,
        _B64.replace("/", "_").replace("+", "-"),
        base64.b64encode(b"x" * 31).decode(),
        base64.b64encode(b"x" * 33).decode(),
        "",
        "a" * 2000,
        "\ud800",
        "é",
        2**53 - 1,
        2**53,
        -1,
        1.0,
        True,
        [],
        {},
        "text-v1",
        "none",
        "2026-06-01T12:00:00Z",
        "2026-02-30T12:00:00Z",
        "a" * 64,
        "0" * 64,
        "application/vnd.provenance.bundle.v1+json",
    ]
)
_MUTATION = st.sampled_from(["replace", "remove", "add"])


def _mutated(document: Any, data: st.DataObject) -> Any:
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(_paths(document)))
        kind = data.draw(_MUTATION)
        if kind == "remove" and path:
            document = _removed(document, path)
        elif kind == "add":
            target: Any = document
            for step in path:
                target = target[step]
            if isinstance(target, dict):
                key = data.draw(st.sampled_from([*target, "extra"]) if target else st.just("x"))
                document = _replaced(document, path, {**target, key: data.draw(_JUNK)})
            elif isinstance(target, list):
                document = _replaced(document, path, [*target, data.draw(_JUNK)])
        else:
            document = _replaced(document, path, data.draw(_JUNK))
    return document


def _encoded(document: Any, data: st.DataObject) -> bytes:
    text = json.dumps(document, indent=data.draw(st.sampled_from([None, 2])))
    if data.draw(st.integers(0, 3)) == 0:  # a duplicate key, a splice or a cut
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(_SPLICES) + text[at:]
    return text.encode("utf-8", "surrogatepass")


def test_the_good_bundle_parses_as_before() -> None:
    outcome = _bundles_agree(GOOD_BUNDLE.to_bytes())
    assert outcome == ("value", GOOD_BUNDLE)
    outcome = _statements_agree(GOOD_BUNDLE.envelope.payload)
    assert outcome[0] == "value"


@SETTINGS
@given(st.data())
def test_mutated_bundles_parse_or_are_refused_as_before(data: st.DataObject) -> None:
    _bundles_agree(_encoded(_mutated(GOOD, data), data))


@SETTINGS
@given(st.data(), st.integers(1, 16), st.integers(0, 5))
def test_bundles_under_other_limits_parse_or_are_refused_as_before(
    data: st.DataObject, depth: int, entries: int
) -> None:
    limits = BundleLimits(max_depth=depth, max_tlog_entries=entries, max_certificates=2)
    document = GOOD
    if data.draw(st.booleans()):
        document = _mutated(GOOD, data)
    _bundles_agree(_encoded(document, data), limits)


@SETTINGS
@given(st.data())
def test_mutated_statements_parse_or_are_refused_as_before(data: st.DataObject) -> None:
    _statements_agree(_encoded(_mutated(PAYLOAD, data), data))


@pytest.mark.parametrize(
    ("anchor", "insertion"),
    [
        ('"mediaType"', '"mediaType": "x:y", '),
        ('"payload"', '"payloadType": "a", '),
        ('"hashes"', '"rootHash": "' + _B64 + '", '),
        ('"logIndex"', '"logIndex": 1, '),
        ('"sig"', '"sig": "", '),
    ],
)
def test_duplicate_keys_in_a_bundle_are_refused_as_before(anchor: str, insertion: str) -> None:
    text = GOOD_BUNDLE.to_bytes().decode()
    at = text.index(anchor)
    outcome = _bundles_agree((text[:at] + insertion + text[at:]).encode())
    assert outcome[:3] == ("refused", "BundleFormatError", "bundle.malformed")


@SETTINGS
@given(st.text("AQgwBC+/=_-é ", min_size=40, max_size=48), st.integers(0, 3))
@example("A" * 42 + "Q=", 0)
@example("A" * 42 + "A=", 0)
@example("A" * 40 + "AAA=", 0)
@example("AAAA" + "=" * 39 + "A=", 0)
def test_proof_hashes_decode_as_before(text: str, count: int) -> None:
    items: list[object] = [*([_B64] * count), text]
    proof = {**GOOD["verificationMaterial"]["tlogEntries"][0]["inclusionProof"], "hashes": items}
    entry = {**GOOD["verificationMaterial"]["tlogEntries"][0], "leafHash": text}
    _same(lambda: InclusionProof.from_json(proof), lambda: _reference_proof(proof))
    _same(lambda: TlogEntry.from_json(entry), lambda: reference.tlog_entry_from_json(entry))


def _reference_proof(proof: object) -> object:
    return reference.inclusion_proof_from_json(proof)
