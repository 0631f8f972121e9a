"""Parsers of untrusted input raise only their own error type, whatever the input."""

from __future__ import annotations

import contextlib
import json
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.errors import AuthorityError, TrustRootError
from provenance.identity import MEDIA_TYPE, TrustRoot, check_identity_text, parse_identity


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_identity_returns_or_raises_authority_error(text: str) -> None:
    try:
        parse_identity(text)
    except AuthorityError:
        return
    assert text.isascii() and not any(char.isspace() for char in text)
    assert unicodedata.is_normalized("NFC", text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(categories=["Cf"]), min_size=1, max_size=3))
def test_check_identity_text_refuses_any_format_character(hidden: str) -> None:
    text = "https://reviews.example/u/" + hidden
    try:
        check_identity_text(text)
    except AuthorityError as exc:
        assert "character U+" in str(exc)
    else:
        raise AssertionError(f"accepted {text!r}")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = ["name", "certificateAuthorities", "intermediates", "publicKeys", "logKeys", "crls"]
_DOCUMENTS = st.fixed_dictionaries(
    {"mediaType": st.just(MEDIA_TYPE)},
    optional={field: _JSON for field in [*_FIELDS, "crlLocations", "requireLog"]},
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | _DOCUMENTS.map(lambda document: json.dumps(document).encode()))
def test_trust_root_from_json_raises_only_trust_root_error(data: bytes) -> None:
    with contextlib.suppress(TrustRootError):
        TrustRoot.from_json(data)
