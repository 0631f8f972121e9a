"""The lone-surrogate walk of strict JSON costs memory linear in the input, and a decoded bundle
is held to the parse checks in the order of specs/bundle-v1.md §6.0 (attacker review of the
strict parsing, 2026-12-03: findings 1 and 2).

The walk once built the full path of every value before looking at it and kept every pending
path: a value nested under long keys cost ~3,700 bytes of memory per input byte (a 66 KiB
/v1/verify body peaked at 278 MiB; 1 MiB at ~4.4 GB). Memory is measured with tracemalloc against
a generous linear bound (a parse needs a few times its input; the walk alone about 4,300).
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance import encoding
from provenance.bundle import DEFAULT_LIMITS, Bundle
from provenance.codes import Code
from provenance.encoding import StrictDecodeError, loads_strict
from provenance.errors import BundleFormatError
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home
from tests.property import parse_reference as reference

LEVELS = 14
ELEMENTS = 8000
LINEAR = 64
"""Bytes of peak memory allowed per input byte."""
KEY = "\U0001f600" * 64
"""A key that ``ascii()`` writes as 640 characters: each level of a path once cost that much."""
PAIR = '"s":"\\ud83d\\ude00 0000000000000000000",'
"""An escaped surrogate pair and a 19-digit run: the step-by-step parser runs."""
LONE = '"s":"\\ud800 0000000000000000000",'
"""As :data:`PAIR` but a lone surrogate, in the first member: the walk reaches it last."""


def _document(first: str) -> bytes:
    head = "".join(f'{{"{KEY}":' for _ in range(LEVELS))
    array = "[" + ",".join(["0"] * ELEMENTS) + "]"
    return ("{" + first + '"x":' + head + array + "}" * LEVELS + "}").encode()


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    except (BundleFormatError, StrictDecodeError):
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("first", [PAIR, LONE], ids=["pair", "lone"])
def test_bundle_from_bytes_of_long_keys_costs_memory_linear_in_the_input(first: str) -> None:
    raw = _document(first)
    peak = _peak(lambda: Bundle.from_bytes(raw))
    assert peak <= LINEAR * len(raw), f"{peak / len(raw):.0f} bytes per input byte"


@pytest.mark.parametrize("first", [PAIR, LONE], ids=["pair", "lone"])
def test_bundle_from_decoded_of_long_keys_costs_memory_linear_in_the_input(first: str) -> None:
    raw = _document(first)
    value = loads_strict(raw, max_bytes=len(raw), allow_lone_surrogates=True)  # as the service
    peak = _peak(lambda: Bundle.from_decoded(value))
    assert peak <= LINEAR * len(raw), f"{peak / len(raw):.0f} bytes per input byte"


def test_loads_strict_of_long_keys_and_a_lone_surrogate_costs_memory_linear_in_the_input() -> None:
    raw = _document(LONE)
    peak = _peak(lambda: loads_strict(raw, max_bytes=len(raw)))
    assert peak <= LINEAR * len(raw), f"{peak / len(raw):.0f} bytes per input byte"


def test_the_lone_surrogate_found_after_the_whole_walk_is_named() -> None:
    with pytest.raises(StrictDecodeError) as raised:
        loads_strict(_document(LONE), max_bytes=1 << 20)
    assert str(raised.value) == "lone surrogate in the string at $.s (not I-JSON)"


def test_a_lone_surrogate_deep_in_an_array_is_named_by_its_path() -> None:
    raw = b'{"a":[0,{"b\\u00e9":["x","\\udc00"]}],"c":"\\ud83d\\ude00"}'
    with pytest.raises(StrictDecodeError) as raised:
        loads_strict(raw, max_bytes=1 << 20)
    assert str(raised.value) == "lone surrogate in the string at $.a[1].b\\xe9[1] (not I-JSON)"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def test_a_verify_request_of_long_keys_costs_memory_linear_in_its_body(api: Api) -> None:
    body = ('{"content":"hi","bundle":' + _document(PAIR).decode() + "}").encode()
    headers = api.keys.header("verify") | {"Content-Type": "application/json"}
    tracemalloc.start()
    try:
        response = api.client.post("/v1/verify", content=body, headers=headers)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert response.status_code == 200, response.text
    assert response.json()["findings"][0]["code"] == Code.BUNDLE_MALFORMED
    assert peak <= LINEAR * len(body), f"{peak / len(body):.0f} bytes per body byte"


def _oversized_bundle(inner: str) -> bytes:
    padding = "A" * (DEFAULT_LIMITS.max_bundle_bytes + 10)
    text = (
        '{"mediaType":"application/vnd.provenance.bundle.v1+json","dsseEnvelope":{},'
        f'"verificationMaterial":{{}},"pad":"{padding}","deep":{inner}}}'
    )
    return text.encode()


@pytest.mark.parametrize(
    "inner", ["[" * 40 + "]" * 40, '"\\ud800"'], ids=["too deep", "lone surrogate"]
)
def test_a_decoded_bundle_too_large_and_malformed_is_too_large_as_from_bytes(inner: str) -> None:
    data = _oversized_bundle(inner)
    decoded = loads_strict(data, max_bytes=len(data), max_depth=64, allow_lone_surrogates=True)
    assert len(json.dumps(decoded, separators=(",", ":")).encode()) == len(data)
    parses: list[Callable[[], Bundle]] = [
        lambda: Bundle.from_bytes(data),
        lambda: Bundle.from_decoded(decoded),
    ]
    for parse in parses:
        with pytest.raises(BundleFormatError) as raised:
            parse()
        assert raised.value.code == Code.BUNDLE_TOO_LARGE
        assert "exceeds the cap of 262144" in str(raised.value)


_ESCAPES = st.sampled_from(["\\\\", "\\ud83d", "\\uDE00", "\\ud800", "\\udc00", "\\u0041", "a"])


@given(st.lists(_ESCAPES, max_size=8))
def test_the_walk_is_skipped_only_when_no_lone_surrogate_was_decoded(parts: list[str]) -> None:
    """The text gate of the step-by-step parser may say yes wrongly, never no wrongly."""
    text = '"' + "".join(parts) + '"'
    decoded = json.loads(text)
    holds = any(0xD800 <= ord(char) <= 0xDFFF for char in decoded)
    assert encoding._may_hold_lone_surrogate(text) or not holds


_TEXT = st.text(
    alphabet=st.sampled_from(["a", "\xe9", "\ud800", "\udfff", "\U0001f600"]), max_size=3
)
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=24,
)


@given(_VALUES)
def test_the_walk_names_the_lone_surrogate_the_path_building_walk_named(value: object) -> None:
    """Same first find and same message as the walk that wrote every path (parse_reference)."""
    assert encoding._lone_surrogate_path(value) == reference._lone_surrogate_path(value)
