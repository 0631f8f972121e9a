"""A worker whose CRL is seconds behind must not publish its older trust root over a newer one.

Every worker of ``prov serve --workers N`` (and every replica) publishes to the home's shared TUF
repository when a client asks for ``timestamp.json``, and each re-reads the CRL only every
``crl_check_seconds``. TUF clients take any newer targets version, so a stale worker that
published its trust root took a revocation back (found by the fresh attack, 2026-12-03).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from tuf.api.metadata import Metadata, Snapshot, Targets, Timestamp

from provenance.bundle import Bundle
from provenance.identity import TrustRoot, create_csr
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import BASE_URL, REVIEW, make_home, postgres_database

TUF = "/.well-known/provenance/tuf"
AUTHOR = f"{BASE_URL}/u/compromised-author"


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    """Two workers on one home and one PostgreSQL database, as ``prov serve --workers 2``."""
    home = make_home(tmp_path / "home")
    with postgres_database() as url:
        first = open_api(home, url, rate_limit_per_minute=100_000)
        second = open_api(home, url, rate_limit_per_minute=100_000)
        try:
            yield next(first), next(second)
        finally:
            for worker in (second, first):
                next(worker, None)


def _published(api: Api) -> tuple[int, TrustRoot]:
    """The targets version a TUF client reaches through ``api``, and that version's trust root."""
    client = api.client
    timestamp = Metadata[Timestamp].from_bytes(client.get(f"{TUF}/metadata/timestamp.json").content)
    version = timestamp.signed.snapshot_meta.version
    snapshot = Metadata[Snapshot].from_bytes(
        client.get(f"{TUF}/metadata/{version}.snapshot.json").content
    )
    targets_version = snapshot.signed.meta["targets.json"].version
    targets = Metadata[Targets].from_bytes(
        client.get(f"{TUF}/metadata/{targets_version}.targets.json").content
    )
    digest = targets.signed.targets["trust-root.json"].hashes["sha256"]
    document = client.get(f"{TUF}/targets/{digest}.trust-root.json").content
    return targets_version, TrustRoot.from_json(document)


def _logged_author_bundle(api: Api) -> tuple[Bundle, x509.Certificate]:
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": AUTHOR}
    issued = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert issued.status_code == 201, issued.text
    chain = [x509.load_pem_x509_certificate(p.encode()) for p in issued.json()["certificateChain"]]
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    unlogged = Signer(key, chain).sign(REVIEW.encode(), "review.txt", predicate)
    logged = api.client.post(
        "/v1/log/entries", json={"bundle": unlogged.to_json()}, headers=api.keys.header("log")
    )
    assert logged.status_code == 201, logged.text
    return Bundle.from_json(logged.json()["bundle"]), chain[0]


def _revoke_for_key_compromise(api: Api, leaf: x509.Certificate) -> None:
    since = leaf.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"serialNumber": f"{leaf.serial_number:x}", "reason": "keyCompromise"}
    revoked = api.client.post(
        "/v1/revocations", json=body | {"invalidityDate": since}, headers=api.keys.header("admin")
    )
    assert revoked.status_code == 201, revoked.text


def _failed(trust: TrustRoot, bundle: Bundle) -> list[str]:
    result = Verifier(trust).check(REVIEW.encode(), bundle, Identity(AUTHOR), at=datetime.now(UTC))
    return [f.code for f in result.findings if not f.ok]


def test_worker_behind_on_the_crl_does_not_publish_the_trust_root_before_a_revocation(
    two_workers: tuple[Api, Api],
) -> None:
    worker_a, worker_b = two_workers
    bundle, leaf = _logged_author_bundle(worker_a)
    _published(worker_a)
    _published(worker_b)  # worker B has read the CRL before the revocation
    _revoke_for_key_compromise(worker_a, leaf)
    revoked_version, revoked_root = _published(worker_a)
    assert _failed(revoked_root, bundle) == ["certificate.revoked"]

    later_version, later_root = _published(worker_b)  # a client's next request reaches B

    assert later_version == revoked_version
    assert _failed(later_root, bundle) == ["certificate.revoked"]
