"""Discovery says which publisher of the store vouched, by the name the store gave it: every
name a signed block shows (CA subjects, the publisher claim) is the signer's own choice, so a
publisher calling itself "Alpha Reviews" is told apart from Alpha Reviews only by that name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.armor import armor_text
from provenance.bundle import Bundle
from tests.integration.trust.support import Publisher, prov, served_publisher


@pytest.fixture
def impostor(tmp_path: Path) -> Iterator[Publisher]:
    """A publisher whose trust root calls itself "Alpha Reviews", added to the store as
    ``impostor``."""
    with served_publisher(tmp_path / "impostor-homes", "Alpha Reviews") as publisher:
        yield publisher


def test_clear_signed_text_found_by_discovery_names_the_store_publisher_not_the_self_declared(
    impostor: Publisher, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    code, _, err = prov(
        "trust", "add", "impostor", impostor.url, "--root", impostor.root_json, "--store", store
    )
    assert code == 0, err
    text = "A review the impostor signed.\n"
    document = tmp_path / "review.txt"
    document.write_text(armor_text(text, Bundle.from_json(impostor.sign(text))))
    found = ("verify", document, "--trust-store", store, "--identity", impostor.identity)
    code, _, err = prov(*found)
    assert code == 0, err
    assert "(publisher impostor)" in err
    code, out, err = prov(*found, "--json")
    assert code == 0, err
    assert json.loads(out)["publisher"] == "impostor"
