"""An optional statement field is present with its JSON type or absent, never ``null``
(bundle-v1 §2, §3.1): reading ``null`` as absent gave every statement a second valid encoding
(found by the fourth attack, 2026-12-03)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from provenance.codes import Code
from provenance.errors import BundleFormatError
from provenance.keys import KeyType, generate_key
from provenance.statement import Statement
from tests.factories import sign


def _predicate(statement: dict[str, Any]) -> dict[str, Any]:
    predicate: dict[str, Any] = statement["predicate"]
    return predicate


def _set_author_null(statement: dict[str, Any]) -> None:
    _predicate(statement)["author"] = None


def _set_publisher_null(statement: dict[str, Any]) -> None:
    _predicate(statement)["publisher"] = None


def _set_display_name_null(statement: dict[str, Any]) -> None:
    _predicate(statement)["author"] = {"id": "https://example.com/u/a", "displayName": None}


def _set_ingredient_name_null(statement: dict[str, Any]) -> None:
    _predicate(statement)["ingredients"] = [{"digest": {"sha256": "ab" * 32}, "name": None}]


@pytest.mark.parametrize(
    "edit",
    [_set_author_null, _set_publisher_null, _set_display_name_null, _set_ingredient_name_null],
    ids=["author", "publisher", "displayName", "ingredient.name"],
)
def test_optional_statement_field_set_to_null_is_malformed(
    edit: Callable[[dict[str, Any]], None],
) -> None:
    statement = json.loads(sign(generate_key(KeyType.ED25519)).envelope.payload)
    edit(statement)
    with pytest.raises(BundleFormatError) as raised:
        Statement.from_payload(json.dumps(statement).encode())
    assert raised.value.code == Code.STATEMENT_MALFORMED
