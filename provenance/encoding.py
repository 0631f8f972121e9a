"""Strict decoding shared by every parser: JSON without duplicate keys or non-finite numbers,
bounded in size and depth, and canonical base64."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson
import rfc8785

from provenance.errors import ProvenanceError


@dataclass(frozen=True)
class JsonLimits:
    """The caps of strict JSON parsing.

    Attributes:
        max_depth: Nesting of arrays and objects, unless a parser asks for less.
        max_integer_digits: Digits of an integer literal, checked before it is converted.
        max_exact_integer: The largest integer of I-JSON (RFC 7493 §2.2): every JSON parser
            reads it exactly (also the cap of every JSON integer we read: log indices, times,
            shard sizes).
    """

    max_depth: int = 32
    max_integer_digits: int = 40
    max_exact_integer: int = 2**53 - 1


JSON_LIMITS = JsonLimits()


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictDecodeError(ProvenanceError, ValueError):
    """Input is not strict JSON or canonical base64; callers wrap it in their own error."""


class TooLargeError(StrictDecodeError):
    """Input exceeds its size cap."""


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


def has_lone_surrogate(value: str) -> bool:
    """Whether ``value`` holds a surrogate code point (no UTF-8 encoding exists for it)."""
    return not value.isascii() and _LONE_SURROGATE.search(value) is not None


def _lone_surrogate_path(value: Any) -> str | None:
    """Where the first string or key holding a lone surrogate is (``the string at $.a[0]``)."""
    return _first_path(value, _lone_surrogate_at, _CHECKED)


def _first_path(
    value: Any,
    found: Callable[[Any], str | None],
    checked: type | tuple[type, ...],
    levels: int | None = None,
) -> str | None:
    """What ``found`` says of the first item it finds, and where it is (``the string at $.a``).

    Depth first, the last child first, a container checked when it is reached; only the children
    that are instances of ``checked`` are looked at, and only exact dicts and lists entered. Only
    the open containers are held (an iterator each, and the key or index that led there): the path
    is written out for the item found alone, so memory is bounded by the nesting, not the size.
    With ``levels``, nothing nested deeper than that is looked at (the items of the first
    ``levels`` levels of a value a caller built with a cycle are finitely many).
    """
    what = found(value)
    if what is not None or type(value) not in _CONTAINERS:
        return None if what is None else f"{what} {_path([])}"
    steps: list[str | int] = []
    frames = [_children_last_first(value)]
    while frames:
        for step, child in frames[-1]:
            if isinstance(child, checked):
                what = found(child)
                if what is not None:
                    return f"{what} {_path([*steps, step])}"
                if type(child) in _CONTAINERS and (levels is None or len(frames) < levels):
                    steps.append(step)
                    frames.append(_children_last_first(child))
                    break
        else:
            frames.pop()
            if steps:
                steps.pop()
    return None


_CONTAINERS = frozenset({dict, list})
_CHECKED = (str, dict, list)
_JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})
"""The exact types of the values :func:`loads_strict` produces (no subclass, no tuple)."""
_STR = frozenset({str})
_EXPECTED_JSON = "expected a JSON value (dict, list, str, int, float, bool or None)"


def _lone_surrogate_at(item: Any) -> str | None:
    """Which lone surrogate ``item`` itself holds (in the string, or a key of the object)."""
    if isinstance(item, str):
        return "the string at" if has_lone_surrogate(item) else None
    if isinstance(item, dict) and any(has_lone_surrogate(key) for key in item):
        return "a key of"
    return None


@dataclass(frozen=True)
class _Walk:
    """What :func:`_json_walk` found: the nesting ``depth`` (0 for a scalar) of a value made only
    of JSON; else ``not_json`` (a foreign value within the ``depth`` levels walked) or
    ``too_many`` (more items than the budget within those levels)."""

    depth: int
    not_json: bool = False
    too_many: bool = False


def _json_walk(value: Any, budget: int) -> _Walk:
    """Check that ``value`` is made only of what :func:`loads_strict` produces (the exact types
    of :data:`_JSON_TYPES`, no subclass or tuple; str keys, finite floats, integers within
    +-(2**53-1)) and find how deep it nests, stopping once more than ``budget`` items are reached:
    each item is at least one byte of the compact text, so such a value is larger than a cap of
    ``budget`` bytes (a value a caller built with a cycle always is; it is walked no further).

    Level by level, a few C calls per container (the set of its children's types) and none per
    scalar unless the container holds an integer, a float or a container.
    """
    depth, seen = -1, 0
    level: list[Any] = [[value]]  # the children of each container of this level
    while level:
        depth += 1
        deeper: list[Any] = []
        for children in level:
            kinds = set(map(type, children))
            if kinds <= _LEAVES:
                continue
            if not (kinds <= _JSON_TYPES and _exact_numbers(children, kinds)):
                return _Walk(depth, not_json=True)
            for child in children:
                if type(child) is dict:
                    if not _STR.issuperset(map(type, child)):
                        return _Walk(depth, not_json=True)
                    deeper.append(child.values())
                elif type(child) is list:
                    deeper.append(child)
        seen += sum(map(len, deeper))
        if seen > budget:
            return _Walk(depth + 1, too_many=True)
        level = deeper
    return _Walk(depth)


_LEAVES = frozenset({str, bool, type(None)})


def _exact_numbers(children: Any, kinds: set[type]) -> bool:
    """Whether the integers of ``children`` are within +-(2**53-1) and its floats finite."""
    if int in kinds and not _exact_integers([c for c in children if type(c) is int]):
        return False
    return float not in kinds or all(map(math.isfinite, [c for c in children if type(c) is float]))


def _exact_integers(integers: list[int]) -> bool:
    limit = JSON_LIMITS.max_exact_integer
    return max(integers) <= limit and min(integers) >= -limit


def _not_json_at(item: Any) -> str | None:
    """Why ``item`` itself (a key of it, if an object) is not a value :func:`loads_strict` produces."""
    kind = type(item)
    if kind is dict:
        key = next((key for key in item if type(key) is not str), _NO_KEY)
        return None if key is _NO_KEY else f"expected a str key, found {_type_name(key)} in"
    if kind is int and abs(item) > JSON_LIMITS.max_exact_integer:
        found = item if item.bit_length() <= 128 else f"one of {item.bit_length()} bits"
        return f"expected an integer within +-(2**53-1), found {found} at"
    if kind is float and not math.isfinite(item):
        return f"expected a finite number, found {item!r} at"
    return None if kind in _JSON_TYPES else f"{_EXPECTED_JSON}, found {_type_name(item)} at"


_NO_KEY: Any = object()


def _type_name(item: object) -> str:
    return ascii(type(item).__name__[:64])[1:-1]


def _children_last_first(item: Any) -> Iterator[tuple[str | int, Any]]:
    """A container's keys or indices with their values, the last first (no copy made)."""
    if isinstance(item, dict):
        return reversed(item.items())
    return zip(range(len(item) - 1, -1, -1), reversed(item), strict=False)


def _path(steps: list[str | int]) -> str:
    """The path (``$.a[0]``) of the keys and indices ``steps``."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{_ascii_key(s)}" for s in steps)


def _ascii_key(key: str) -> str:
    """A JSON key as ASCII for an error message (escapes as ``ascii()`` writes them), capped."""
    return ascii(key[:64])[1:-1]


def _nested_deeper(value: Any, allowed: int) -> bool:
    """Whether ``value`` nests containers more than ``allowed`` levels, walking level by level."""
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
    """Parse UTF-8 JSON strictly, as I-JSON (RFC 7493).

    Read by orjson when its checks vouch for the document (:func:`_loads_fast`), else step by
    step (:func:`_loads_checked`): the same values and the same errors either way.

    Args:
        data: The document.
        max_bytes: Its size cap.
        max_depth: The deepest nesting allowed.
        allow_lone_surrogates: Keep strings holding an escaped lone surrogate (``"\\ud800"``)
            for a caller that checks its fields itself (the service's request bodies, so that a
            bad item of a batch fails alone); refused otherwise.

    Raises:
        StrictDecodeError: Too large, not UTF-8, not JSON, duplicate keys, NaN/Infinity (also as
            an overflowing literal such as 1e400), integers beyond +-(2**53-1), a lone surrogate,
            or nested deeper than ``max_depth``.
    """
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as exc:
        raise StrictDecodeError(f"not UTF-8: {exc.reason} at character {exc.start}") from exc
    if len(raw) > max_bytes:
        raise TooLargeError(f"document of {len(raw)} bytes exceeds the cap of {max_bytes}")
    value = _loads_fast(raw, max_depth)
    if value is _NOT_FAST:
        value = _loads_checked(raw, max_depth, allow_lone_surrogates)
    return value


_NOT_FAST: Any = object()
_SHAPE = bytes.maketrans(b"123456789[", b"000000000{")
"""Digits to ``0`` and ``[`` to ``{``: one pass that the checks of :func:`_loads_fast` then count."""
_LONG_INTEGER = b"0" * 19
"""Nineteen digits in a row: an integer literal this long may be beyond 64 bits, which orjson
reads as a float (every shorter one it reads exactly)."""
_ESCAPED_COLONS = (b"\\u003a", b"\\u003A")
"""An escaped colon (JSON's ``\\u`` escapes take either case of hex digit). Looked for in the raw
document, not the shape: there every escape of four decimal digits (``\\u2014``, the em dash of
every signed checkpoint sent by a client that escapes non-ASCII) reads ``\\u0000``."""


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_parse_float)
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def decode_json(raw: bytes) -> Any:
    """The JSON value of ``raw`` (strict UTF-8) read by the standard library's C scanner, which
    compares object keys by value. Never orjson for reading untrusted input: it caches keys
    by a 64-bit hash without comparing bytes, and a key made to collide is read as another.

    Duplicate keys, integer ranges and nesting are the caller's to check.

    Raises:
        ValueError: Not JSON, not UTF-8, NaN or Infinity, a float overflowing, an escaped
            surrogate (paired or not: the step-by-step readers decide), nesting beyond the
            interpreter's recursion limit.
    """
    if b"\\u" in raw and _ESCAPED_SURROGATE_BYTES.search(raw):
        raise ValueError("an escaped surrogate")
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def _loads_fast(raw: bytes, max_depth: int) -> Any:
    """:func:`loads_strict`'s value of ``raw`` read by :func:`decode_json`, or ``_NOT_FAST`` for any document
    this cannot vouch for (:func:`_loads_checked` then answers, with its error messages).

    :func:`decode_json` reads RFC 8259 JSON in strict UTF-8 and refuses NaN, Infinity, escaped
    surrogates and numbers overflowing to infinity. What it does not check is checked here without a Python walk: integers
    within +-(2**53-1) (writing the value back with ``OPT_STRICT_INTEGER``), no duplicate key
    (outside strings a colon only separates a key from its value, and the value written back
    keeps every colon of its strings: one key fewer means one colon fewer, unless a colon was
    escaped), and nesting (walked only when there are more brackets than levels allowed).
    """
    shape = raw.translate(_SHAPE)
    if _LONG_INTEGER in shape or _ESCAPED_COLONS[0] in raw or _ESCAPED_COLONS[1] in raw:
        return _NOT_FAST
    try:
        value = decode_json(raw)
        colons = orjson.dumps(value, option=orjson.OPT_STRICT_INTEGER).count(b":")
    except (ValueError, TypeError):  # decode_json's errors and orjson's JSONEncodeError
        return _NOT_FAST
    if colons != shape.count(b":"):
        return _NOT_FAST
    if shape.count(b"{") > max_depth and _nested_deeper(value, max_depth):
        return _NOT_FAST
    return value


def _loads_checked(raw: bytes, max_depth: int, allow_lone_surrogates: bool) -> Any:
    """:func:`loads_strict` step by step with the standard library, for its error messages.

    Raises:
        StrictDecodeError: As :func:`loads_strict` (its size cap already applied).
    """
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
    # Nesting depth cannot exceed the number of opening brackets: only then walk the value.
    openings = raw.count(b"{") + raw.count(b"[")
    if openings > max_depth and _nested_deeper(value, max_depth):
        raise StrictDecodeError(f"JSON nested deeper than {max_depth} levels")
    if not allow_lone_surrogates and _may_hold_lone_surrogate(text):
        where = _lone_surrogate_path(value)
        if where is not None:
            raise StrictDecodeError(f"lone surrogate in {where} (not I-JSON)")
    return value


_PAIRED_ESCAPES = re.compile(r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
"""An escaped backslash, or the escapes of a surrogate pair (which decode to one character)."""


def _may_hold_lone_surrogate(text: str) -> bool:
    """Whether JSON text that parsed may hold a lone surrogate: only a ``\\u`` escape of one not
    paired with the next escape can (the text is valid UTF-8).

    Outside strings valid JSON has no backslash, and inside one the scan from the left reaches
    every escape at its backslash (each escape that is removed is removed whole), so removing
    escaped backslashes and escaped pairs leaves every lone surrogate's escape in place.
    """
    return _SURROGATE_ESCAPE.search(_PAIRED_ESCAPES.sub("", text)) is not None


_CONTROL = re.compile("[\x00-\x1f]")
_SHORT_ESCAPES = frozenset("\b\f\n\r\t")


def check_decoded(value: Any, *, max_bytes: int, max_depth: int) -> None:
    """Apply :func:`loads_strict`'s caps to a value a strict parse of a larger document produced.

    A part of a request that :func:`loads_strict` already decoded (allowing lone surrogates) is
    held to the caps of a document of its own, in the order :func:`loads_strict` applies them
    (specs/bundle-v1.md §6.0), without serializing it again: at most ``max_bytes`` in its compact
    UTF-8 JSON form (no whitespace, non-ASCII characters as UTF-8), nested at most ``max_depth``
    levels, and no lone surrogate. One C-encoded compact text vouches for the common value
    (:func:`_within_size`); any other is checked step by step, for its error.

    First of all the value must be made only of what :func:`loads_strict` produces: exact dicts
    with str keys, lists, str, int within +-(2**53-1), finite float, bool, None. A value a caller
    built (a tuple, a subclass of float, int, str, dict or list, a non-str key) is refused: the C
    encoder writes it otherwise than the step-by-step checks measure it (a tuple as an array,
    ``float.__repr__`` and not the subclass's, a dict by its ``items()``), so the caps would be
    judged on a text that is not the value's. The walk that checks this also finds the depth; it
    goes through at most 4 times ``max_bytes`` items (at least 64 Ki): a value with more (one
    with a cycle among them) is too large whatever it holds.

    Raises:
        StrictDecodeError: Not made of the values :func:`loads_strict` produces (checked first:
            ``expected ..., found ... at $.path``), nested too deeply or holding a lone surrogate.
        TooLargeError: Larger than ``max_bytes`` (checked after the types, before the rest).
    """
    walk = _json_walk(value, _SIZE_COUNT_FACTOR * max(max_bytes, _SIZE_COUNT_FLOOR))
    if walk.not_json:
        where = _first_path(value, _not_json_at, object, levels=walk.depth)
        raise StrictDecodeError(where or _EXPECTED_JSON)
    if walk.too_many:
        _refuse_too_large(value, max_bytes)
    depth = walk.depth
    if depth <= max_depth and _within_size(value, max_bytes):
        return
    size = compact_json_size(value)
    if size > max_bytes:
        raise TooLargeError(f"document of {size} bytes exceeds the cap of {max_bytes}")
    if depth > max_depth:
        raise StrictDecodeError(f"JSON nested deeper than {max_depth} levels")
    where = _lone_surrogate_path(value)
    if where is not None:
        raise StrictDecodeError(f"lone surrogate in {where} (not I-JSON)")


_SIZE_COUNT_FACTOR = 4
_SIZE_COUNT_FLOOR = 1 << 16
"""A value with more items than its cap has its size counted exactly up to 4 times the cap (at
least 64 KiB): a value a caller built with a cycle has no size."""


def _refuse_too_large(value: Any, max_bytes: int) -> NoReturn:
    """Raise for a value with more items than ``max_bytes``: its size, counted up to
    :data:`_SIZE_COUNT_FACTOR` times the cap (at least 64 KiB; a cycle has no end).

    Raises:
        TooLargeError: Always.
    """
    bound = _SIZE_COUNT_FACTOR * max(max_bytes, _SIZE_COUNT_FLOOR)
    size = compact_json_size(value, cap=bound)
    told = f"{size} bytes" if size <= bound else f"more than {bound} bytes"
    raise TooLargeError(f"document of {told} exceeds the cap of {max_bytes}")


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""The compact text :func:`compact_json_size` measures, written by the standard library's C
encoder: the same escapes, ``repr`` of floats and ``str`` of integers."""


def _within_size(value: Any, max_bytes: int) -> bool:
    """Whether :func:`check_decoded` can vouch for ``value`` (made of JSON values, nested within
    its cap) from its compact text alone (else it checks step by step, for its errors): the text
    encodes as UTF-8 (no lone surrogate) within ``max_bytes``. For exact JSON types the C encoder
    writes what :func:`compact_json_size` measures.
    """
    try:
        text = _COMPACT.encode(value)
    except (ValueError, TypeError, RecursionError):  # not expected of a value made of JSON values
        return False
    if text.isascii():
        return len(text) <= max_bytes
    try:
        return len(text.encode("utf-8")) <= max_bytes
    except UnicodeEncodeError:  # a lone surrogate
        return False


def compact_json_size(value: Any, cap: int | None = None) -> int:
    """The length in bytes of ``value``'s compact UTF-8 JSON text, computed without writing it;
    with ``cap``, the count so far as soon as it passes the cap (a value a caller built with a
    cycle has no end)."""
    total = 0
    stack = [value]
    while stack and (cap is None or total <= cap):
        item = stack.pop()
        if isinstance(item, str):
            total += _string_size(item)
        elif isinstance(item, dict):
            total += 1 + 2 * len(item) if item else 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            total += 1 + len(item) if item else 2
            stack.extend(item)
        elif item is None or item is True:
            total += 4
        elif item is False:
            total += 5
        elif isinstance(item, int):
            total += len(str(item))
        else:
            total += len(repr(item))
    return total


def _string_size(text: str) -> int:
    size = 2 + len(text.encode("utf-8", "surrogatepass")) + text.count('"') + text.count("\\")
    for control in _CONTROL.findall(text):
        size += 1 if control in _SHORT_ESCAPES else 5
    return size


def dumps_text(value: Any, *, indent: int | None = None, compact: bool = False) -> str:
    """JSON text of ``value`` that always encodes as UTF-8: non-ASCII kept as is, but a lone
    surrogate (from a file name or an input that is not UTF-8) written as its ``\\uXXXX`` escape.

    Surrogates can only stand inside JSON strings, where the escape is exact, so the text parses
    back to the same value.
    """
    separators = (",", ":") if compact else None
    text = json.dumps(
        value, indent=indent, separators=separators, ensure_ascii=False, allow_nan=False
    )
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON of ``value``.

    A value made of ASCII strings, integers within +-(2**53-1), booleans and null (the shape of
    envelopes and log entries) serializes identically through the standard library's compact,
    key-sorted encoder, which is far faster; anything else goes through ``rfc8785``.

    Raises:
        rfc8785.CanonicalizationError: A value JCS cannot represent.
    """
    if _is_plain(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.encode("ascii")
    data: bytes = rfc8785.dumps(value)
    return data


def _is_plain(value: Any) -> bool:
    """Whether ``value`` holds only ASCII strings, exact integers, booleans and null."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                return False
        elif isinstance(item, dict):
            if not all(isinstance(key, str) and key.isascii() for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > JSON_LIMITS.max_exact_integer:
                return False
        elif not (item is None or isinstance(item, bool)):
            return False
    return True


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str) -> bytes:
    """Decode standard, padded, canonical base64 (RFC 4648 §4); anything else is refused.

    Raises:
        StrictDecodeError: Not base64, wrong alphabet or padding, or non-zero padding bits.
    """
    if type(text) is str:  # the common case: text is the canonical encoding of what it decodes to
        try:
            decoded = binascii.a2b_base64(text, strict_mode=True)
        except ValueError:  # binascii.Error, or a character beyond ASCII
            return _b64decode_checked(text)
        if len(text) == (len(decoded) + 2) // 3 * 4 and _zero_padding_bits(text):
            return decoded
    return _b64decode_checked(text)


_ZERO_LOW_2_BITS = frozenset("AEIMQUYcgkosw048")
_ZERO_LOW_4_BITS = frozenset("AQgw")


def _zero_padding_bits(text: str) -> bool:
    """Whether base64 that strict ``a2b_base64`` accepted, as long as the canonical encoding of
    what it decodes to, ends in zero bits: then it is that encoding (strict mode refuses any other
    alphabet, and any character after padding)."""
    if not text.endswith("="):
        return True
    if text[-2] != "=":
        return text[-2] in _ZERO_LOW_2_BITS
    return text[-3] in _ZERO_LOW_4_BITS


def _b64decode_checked(text: str) -> bytes:
    """:func:`b64decode_strict` step by step, for its error messages."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise StrictDecodeError(f"not standard padded base64: {exc}") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise StrictDecodeError("non-canonical base64 (padding bits or padding)")
    return data


ErrorFactory = Callable[[str], Exception]


def json_object(
    obj: object,
    what: str,
    required: AbstractSet[str],
    optional: AbstractSet[str],
    error: ErrorFactory,
) -> dict[str, Any]:
    """Check that ``obj`` is a JSON object with all ``required`` and no unknown fields.

    Raises:
        Exception: ``error(message)`` naming what is missing or unknown.
    """
    if isinstance(obj, dict):
        keys = obj.keys()
        if keys == required or (keys >= required and keys - required <= optional):
            return obj
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
    """Decode a JSON string field holding canonical base64.

    Raises:
        Exception: ``error(message)`` when it is not a string or not canonical base64.
    """
    if not isinstance(value, str):
        raise error(f"{what} must be a base64 string")
    try:
        return b64decode_strict(value)
    except StrictDecodeError as exc:
        raise error(f"{what}: {exc}") from exc
