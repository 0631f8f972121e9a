"""``POST /v1/log/entries``: only a bundle that verifies against this publisher's trust root gets
into its log, once. The published trust root requires the log (issue 12.4), so this route is the
only way an author's offline signature becomes verifiable; it must not log a forged, revoked or
foreign signature, nor the same signature twice."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.bundle import Bundle
from provenance.dsse import Envelope, EnvelopeSignature
from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from tests.factories import certified_author, make_authority
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import BASE_URL, REVIEW, make_home, sign_body
from verifier_api import crud

AUTHOR = f"{BASE_URL}/u/author-1"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _certified(api: Api) -> tuple[Any, list[x509.Certificate]]:
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": AUTHOR}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 201, response.text
    pems = response.json()["certificateChain"]
    return key, [x509.load_pem_x509_certificate(p.encode()) for p in pems]


def _signed(key: Any, chain: list[x509.Certificate], text: str = REVIEW) -> Bundle:
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    return Signer(key, chain).sign(text.encode(), "review.txt", predicate)


def _submit(api: Api, bundle: dict[str, Any], scope: str = "log") -> Any:
    body = {"bundle": bundle}
    return api.client.post("/v1/log/entries", json=body, headers=api.keys.header(scope))


def _size(api: Api) -> int:
    return api.service.log.state().size


def test_a_submitted_bundle_is_logged_once_and_its_entry_is_durable(api: Api) -> None:
    bundle = _signed(*_certified(api))
    first = _submit(api, bundle.to_json())
    assert first.status_code == 201, first.text
    index = first.json()["logIndex"]
    size = _size(api)
    again = _submit(api, bundle.to_json(), scope="sign")
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["logIndex"] == index
    assert _size(api) == size, "the same envelope was appended twice"
    leaf = api.client.get(f"/v1/log/entries/{index}").json()["entry"]
    assert leaf["envelopeSha256"] == bundle.envelope.sha256().hex()


def test_a_bundle_that_carries_its_entry_already_is_returned_unchanged(api: Api) -> None:
    signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    size = _size(api)
    response = _submit(api, signed.json()["bundle"])
    assert response.status_code == 200, response.text
    assert response.json()["bundle"] == signed.json()["bundle"]
    assert _size(api) == size


def test_a_revoked_authors_bundle_is_refused_and_not_logged(api: Api) -> None:
    key, chain = _certified(api)
    bundle = _signed(key, chain)
    serial = f"{chain[0].serial_number:x}"
    body = {"serialNumber": serial, "reason": "keyCompromise"}
    revoked = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    assert revoked.status_code == 201, revoked.text
    size = _size(api)
    response = _submit(api, bundle.to_json())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "certificate.revoked"
    assert _size(api) == size


def test_a_forged_signature_is_refused_and_not_logged(api: Api) -> None:
    key, chain = _certified(api)
    genuine = _signed(key, chain)
    other = _signed(key, chain, "Another text.\n").envelope.signatures[0]
    forged_envelope = Envelope(
        genuine.envelope.payload,
        genuine.envelope.payload_type,
        (EnvelopeSignature(other.sig, other.keyid),),
    )
    forged = dataclasses.replace(genuine, envelope=forged_envelope)
    size = _size(api)
    response = _submit(api, forged.to_json())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "signature.invalid"
    assert _size(api) == size


def test_a_bundle_certified_by_another_ca_of_the_same_name_is_refused_and_not_logged(
    api: Api,
) -> None:
    now = datetime.now(UTC)
    impostor = make_authority("Reviews Example", created=now - timedelta(days=1))
    author = certified_author(impostor, AUTHOR, issued=now - timedelta(hours=1))
    size = _size(api)
    response = _submit(api, _signed(author.key, author.chain).to_json())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"].startswith("certificate.")
    assert _size(api) == size


def test_only_log_and_sign_keys_may_submit(api: Api) -> None:
    bundle = _signed(*_certified(api)).to_json()
    for scope, status in (("verify", 403), ("admin", 403), ("revoked", 401)):
        response = _submit(api, bundle, scope=scope)
        assert response.status_code == status, (scope, response.text)
    response = api.client.post("/v1/log/entries", json={"bundle": bundle})
    assert response.status_code == 401


def _digests(bundle: Bundle) -> tuple[str, str]:
    leaf = bundle.certificates[0].public_bytes(Encoding.DER)
    return bundle.envelope.sha256().hex(), hashlib.sha256(leaf).hexdigest()


def test_a_signature_being_logged_by_another_request_is_pending_not_appended_twice(
    api: Api,
) -> None:
    bundle = _signed(*_certified(api))
    envelope, signer = _digests(bundle)
    in_flight = crud.claim_submission(api.service.engine, envelope, signer, now=datetime.now(UTC))
    assert in_flight is None, "the claim of the request that is appending"
    size = _size(api)
    response = _submit(api, bundle.to_json())
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "log.pending"
    assert response.headers["Retry-After"] == "1"
    assert _size(api) == size


def test_a_claim_left_by_a_request_that_died_is_taken_over(api: Api) -> None:
    bundle = _signed(*_certified(api))
    envelope, signer = _digests(bundle)
    died = datetime.now(UTC) - timedelta(minutes=3)
    assert crud.claim_submission(api.service.engine, envelope, signer, now=died) is None
    response = _submit(api, bundle.to_json())
    assert response.status_code == 201, response.text
    again = _submit(api, bundle.to_json())
    assert (again.status_code, again.json()["logIndex"]) == (200, response.json()["logIndex"])
