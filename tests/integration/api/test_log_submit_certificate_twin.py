"""Front-running an author's log submission with a twin of its leaf (found by the seventh attack).

A CA's ECDSA signature has a twin (S replaced by n - S), so anyone who sees an author's unlogged
bundle can make another DER of the author's certificate, with the same TBS, that validates. Logged
first under that DER, the signature was bound to a certificate the CA never issued, and the
author's genuine bundle was refused 409 ``log.certificate_conflict``. The service logs a leaf this
publisher issued under the DER it issued, whichever twin is submitted.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509

from provenance.bundle import Bundle
from provenance.identity import create_csr
from provenance.identity.csr import issue_from_csr
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.verifier import Verifier
from tests.certificate_edits import p256_twin
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import BASE_URL, REVIEW, make_home

AUTHOR = f"{BASE_URL}/u/author-twin"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _authors_bundle(api: Api) -> dict[str, Any]:
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": AUTHOR}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 201, response.text
    chain = [
        x509.load_pem_x509_certificate(p.encode()) for p in response.json()["certificateChain"]
    ]
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    return Signer(key, chain).sign(REVIEW.encode(), "review.txt", predicate).to_json()


def _with_twin_leaf(document: dict[str, Any]) -> dict[str, Any]:
    twin = copy.deepcopy(document)
    chain = twin["verificationMaterial"]["x509CertificateChain"]["certificates"]
    chain[0] = {
        "rawBytes": base64.b64encode(p256_twin(base64.b64decode(chain[0]["rawBytes"]))).decode()
    }
    return twin


def _submit(api: Api, bundle: dict[str, Any]) -> Any:
    return api.client.post(
        "/v1/log/entries", json={"bundle": bundle}, headers=api.keys.header("log")
    )


def _leaf_der(document: dict[str, Any]) -> bytes:
    return base64.b64decode(
        document["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
    )


def _verifies(api: Api, document: dict[str, Any]) -> bool:
    trust = api.service.authority.trust_root()[0]
    result = Verifier(trust).check(
        REVIEW.encode(), Bundle.from_json(document), UnsafeAcceptAnyIdentity(), at=datetime.now(UTC)
    )
    return result.verified


def test_a_twin_leaf_submitted_first_is_logged_under_the_issued_certificate(api: Api) -> None:
    genuine = _authors_bundle(api)
    twin = _with_twin_leaf(genuine)
    assert _leaf_der(twin) != _leaf_der(genuine)
    attacker = _submit(api, twin)
    author = _submit(api, genuine)
    assert attacker.status_code == 201, attacker.text
    assert author.status_code == 200, author.text
    assert author.json()["logIndex"] == attacker.json()["logIndex"]
    for answer in (attacker, author):
        assert _leaf_der(answer.json()["bundle"]) == _leaf_der(genuine)
        assert _verifies(api, answer.json()["bundle"])


def test_a_twin_leaf_submitted_after_the_genuine_one_gets_the_same_entry(api: Api) -> None:
    genuine = _authors_bundle(api)
    author = _submit(api, genuine)
    attacker = _submit(api, _with_twin_leaf(genuine))
    assert author.status_code == 201, author.text
    assert attacker.status_code == 200, attacker.text
    assert attacker.json()["logIndex"] == author.json()["logIndex"]
    assert _leaf_der(attacker.json()["bundle"]) == _leaf_der(genuine)


def _offline_authors_bundle(api: Api) -> dict[str, Any]:
    """What ``prov ca issue`` on the publisher's CA gives an author (no record in the service's
    database), signed by the author (found by the eighth attack)."""
    key = generate_key(KeyType.P256)
    now = datetime.now(UTC)
    author = f"{BASE_URL}/u/offline-author"
    chain = issue_from_csr(
        api.service.publisher.authority, create_csr(key, author), author, now=now, days=90
    )
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, now)
    return Signer(key, list(chain)).sign(REVIEW.encode(), "review.txt", predicate).to_json()


def test_a_twin_of_an_offline_issued_leaf_submitted_first_gives_the_author_its_entry(
    api: Api,
) -> None:
    genuine = _offline_authors_bundle(api)
    attacker = _submit(api, _with_twin_leaf(genuine))
    author = _submit(api, genuine)
    assert attacker.status_code == 201, attacker.text
    assert author.status_code == 200, author.text
    assert author.json()["logIndex"] == attacker.json()["logIndex"]
    assert _verifies(api, author.json()["bundle"])  # it carries the logged twin


def test_an_offline_issued_leaf_then_its_twin_get_the_one_entry(api: Api) -> None:
    genuine = _offline_authors_bundle(api)
    author = _submit(api, genuine)
    attacker = _submit(api, _with_twin_leaf(genuine))
    assert (author.status_code, attacker.status_code) == (201, 200), attacker.text
    assert attacker.json()["logIndex"] == author.json()["logIndex"]
    assert _leaf_der(attacker.json()["bundle"]) == _leaf_der(genuine)
