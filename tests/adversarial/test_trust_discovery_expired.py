"""Discovery over the trust store skips a publisher whose trust root expired (a freeze must not
make it usable, `trust-distribution-v1.md` §5) and goes on with the others, for clear-signed text
as for bundles; when every publisher expired it says so (`trust.publisher.none`, as for bundles)
and asks for an update."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.armor import armor_text
from provenance.bundle import Bundle
from tests.integration.trust.support import Publisher, prov, served_publisher, write_review


@pytest.fixture
def publishers(tmp_path: Path) -> Iterator[tuple[Publisher, Publisher]]:
    with (
        served_publisher(tmp_path / "homes", "Alpha Reviews") as alpha,
        served_publisher(tmp_path / "homes", "Beta Reviews") as beta,
    ):
        yield alpha, beta


def _store_with(publishers: tuple[Publisher, Publisher], store: Path) -> None:
    for publisher, name in zip(publishers, ("alpha", "beta"), strict=True):
        code, _, err = prov(
            "trust", "add", name, publisher.url, "--root", publisher.root_json, "--store", store
        )
        assert code == 0, err


def _expire(store: Path, name: str) -> None:
    """Make ``name``'s last update stale, as if the platform had not run `prov trust update`."""
    record = store / "publishers" / name / "publisher.json"
    document = json.loads(record.read_text())
    document["expires"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    record.write_text(json.dumps(document))


def test_clear_signed_text_discovery_skips_an_expired_publisher_and_tries_the_others(
    publishers: tuple[Publisher, Publisher], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    _store_with(publishers, store)
    _expire(store, "alpha")
    beta = publishers[1]
    text = "A review beta signed.\n"
    document = tmp_path / "review.txt"
    document.write_text(armor_text(text, Bundle.from_json(beta.sign(text))))
    code, _, err = prov("verify", document, "--trust-store", store, "--identity", beta.identity)
    assert code == 0, err
    assert "(publisher beta)" in err
    bundle_review = write_review(tmp_path, "bundled", text, beta.sign(text))
    code, _, err = prov(
        "verify", bundle_review, "--trust-store", store, "--identity", beta.identity
    )
    assert code == 0, err


def test_clear_signed_text_discovery_with_every_publisher_expired_asks_for_an_update(
    publishers: tuple[Publisher, Publisher], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    _store_with(publishers, store)
    _expire(store, "alpha")
    _expire(store, "beta")
    beta = publishers[1]
    text = "A review beta signed.\n"
    document = tmp_path / "review.txt"
    document.write_text(armor_text(text, Bundle.from_json(beta.sign(text))))
    code, _, err = prov("verify", document, "--trust-store", store, "--identity", beta.identity)
    assert code == 1, err
    assert "[trust.expired] publisher 'beta' vouches for this signer" in err
    assert "prov trust update beta" in err
