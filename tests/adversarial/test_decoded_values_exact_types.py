"""A decoded value is held to strict JSON's caps only if it is made of the exact types
``loads_strict`` produces (attacker review of check_decoded, 2026-12-03).

``check_decoded`` vouched for a value from the compact text the standard library's C encoder
writes, else checked it step by step. The two disagree on values that no strict parse produces but
a caller can build and hand over as a ``DecodedBundle``: the C encoder writes a tuple as an array,
a float or int subclass by ``float.__repr__`` or ``int.__repr__`` (not its own), a dict subclass by
its ``items()``, a list subclass by its storage (not ``__iter__``), and turns integer keys into
strings; the step-by-step checks see the subclass's own methods, count no tuple as nesting and
accept NaN. A size or depth cap was then judged differently, and a value over the caps passed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from provenance import DecodedBundle, Verifier
from provenance.bundle import DEFAULT_LIMITS
from provenance.encoding import StrictDecodeError, check_decoded
from provenance.verify.policy import AllOf
from tests.adversarial.attack import PINNED, PINNED_TRUST
from tests.factories import NOW, REVIEW

JSON_VALUE = "expected a JSON value (dict, list, str, int, float, bool or None)"


class LongFloat(float):
    """A float whose own ``repr`` is long; the C encoder writes ``float.__repr__``."""

    def __repr__(self) -> str:
        return "1" * 100


class LongInt(int):
    """An int whose own ``str`` is long; the C encoder writes ``int.__repr__``."""

    def __str__(self) -> str:
        return "9" * 100

    __repr__ = __str__


class HiddenDict(dict[str, Any]):
    """A dict whose ``items()`` (what the C encoder writes) is empty."""

    def items(self) -> Any:
        return iter(())


class HiddenList(list[Any]):
    """A list whose ``__iter__`` (what the step-by-step checks walk) is empty."""

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class AsciiStr(str):
    """A str claiming to be ASCII: the lone-surrogate walk skips it."""

    def isascii(self) -> bool:
        return True


def _nested(levels: int, wrap: Any) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = wrap(value)
    return value


# (value, max_bytes, max_depth, message): each passed check_decoded before the fix.
CALLER_BUILT = {
    "float_subclass_longer_than_the_cap": (
        [LongFloat(1.5)],
        50,
        4,
        f"{JSON_VALUE}, found LongFloat at $[0]",
    ),
    "int_subclass_longer_than_the_cap": (
        [LongInt(7)],
        50,
        4,
        f"{JSON_VALUE}, found LongInt at $[0]",
    ),
    "tuples_nested_deeper_than_the_cap": (
        [_nested(20, lambda v: (v,))],
        1000,
        4,
        f"{JSON_VALUE}, found tuple at $[0]",
    ),
    "dict_subclass_hiding_its_members": (
        {"a": HiddenDict(k="x" * 100)},
        10,
        4,
        f"{JSON_VALUE}, found HiddenDict at $.a",
    ),
    "list_subclass_nested_deeper_than_the_cap": (
        _nested(20, lambda v: HiddenList([v])),
        1000,
        4,
        f"{JSON_VALUE}, found HiddenList at $",
    ),
    "str_subclass_hiding_a_lone_surrogate": (
        {"k": AsciiStr("\ud800")},
        1000,
        4,
        f"{JSON_VALUE}, found AsciiStr at $.k",
    ),
    "integer_key": ({"a": {1: "x"}}, 1000, 4, "expected a str key, found int in $.a"),
    "tuple_key": ({(1,): "x"}, 1000, 4, "expected a str key, found tuple in $"),
    "bytes": ([b"x"], 1000, 4, f"{JSON_VALUE}, found bytes at $[0]"),
    "nan": ([float("nan")], 1000, 4, "expected a finite number, found nan at $[0]"),
    "integer_beyond_i_json": (
        {"n": 2**53},
        1000,
        4,
        "expected an integer within +-(2**53-1), found 9007199254740992 at $.n",
    ),
}


@pytest.mark.parametrize(
    ("value", "max_bytes", "max_depth", "message"),
    list(CALLER_BUILT.values()),
    ids=list(CALLER_BUILT),
)
def test_a_value_strict_json_never_decodes_to_is_refused(
    value: Any, max_bytes: int, max_depth: int, message: str
) -> None:
    with pytest.raises(StrictDecodeError) as caught:
        check_decoded(value, max_bytes=max_bytes, max_depth=max_depth)
    assert type(caught.value) is StrictDecodeError
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "max_bytes", "max_depth", "message"),
    list(CALLER_BUILT.values()),
    ids=list(CALLER_BUILT),
)
def test_a_value_strict_json_never_decodes_to_is_refused_by_the_step_by_step_checks_too(
    value: Any, max_bytes: int, max_depth: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("provenance.encoding._within_size", lambda *_: False)
    with pytest.raises(StrictDecodeError) as caught:
        check_decoded(value, max_bytes=max_bytes, max_depth=max_depth)
    assert str(caught.value) == message


def test_a_json_value_beside_a_foreign_one_is_refused_for_the_foreign_one_whatever_the_caps() -> (
    None
):
    with pytest.raises(StrictDecodeError, match=r"found tuple at \$\.b$"):
        check_decoded({"a": "x" * 100, "b": ()}, max_bytes=10, max_depth=0)


def _bundle_json() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(PINNED.to_bytes())
    return value


def _check(value: object, max_bundle_bytes: int = DEFAULT_LIMITS.max_bundle_bytes) -> Any:
    limits = replace(DEFAULT_LIMITS, max_bundle_bytes=max_bundle_bytes)
    verifier = Verifier(PINNED_TRUST, limits)
    return verifier.check(REVIEW, DecodedBundle(value), AllOf([]), at=NOW)


def test_the_plain_decoded_bundle_verifies() -> None:
    assert _check(_bundle_json()).verified


def test_a_decoded_bundle_whose_dict_hides_its_members_from_the_size_cap_is_malformed() -> None:
    """Before the fix the C encoder measured ``{}`` and the bundle, over its cap, verified."""
    result = _check(HiddenDict(_bundle_json()), max_bundle_bytes=64)
    assert not result.verified
    assert [(f.code, f.message) for f in result.findings] == [
        ("bundle.malformed", f"bundle: {JSON_VALUE}, found HiddenDict at $")
    ]


def _str_subclass_media_type(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "mediaType": AsciiStr(value["mediaType"])}


def _tuple_key(value: dict[str, Any]) -> dict[Any, Any]:
    edited: dict[Any, Any] = dict(value)
    edited[(1,)] = "x"
    return edited


def _tuple_signatures(value: dict[str, Any]) -> dict[str, Any]:
    envelope = value["dsseEnvelope"]
    return {**value, "dsseEnvelope": {**envelope, "signatures": tuple(envelope["signatures"])}}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_str_subclass_media_type, f"{JSON_VALUE}, found AsciiStr at $.mediaType"),
        (_tuple_key, "expected a str key, found tuple in $"),
        (_tuple_signatures, f"{JSON_VALUE}, found tuple at $.dsseEnvelope.signatures"),
    ],
    ids=["str_subclass", "tuple_key", "tuple_array"],
)
def test_a_decoded_bundle_holding_a_caller_built_value_is_malformed_not_raised_nor_verified(
    edit: Any, message: str
) -> None:
    result = _check(edit(_bundle_json()))
    assert not result.verified
    assert [(f.code, f.message) for f in result.findings] == [
        ("bundle.malformed", f"bundle: {message}")
    ]
