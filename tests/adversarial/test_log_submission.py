"""``POST /v1/log/entries``: only a bundle that verifies against this publisher's trust root gets
into its log, once. The published trust root requires the log (issue 12.4), so this route is the
only way an author's offline signature becomes verifiable; it must not log a forged, revoked or
foreign signature, nor the same signature twice."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.bundle import Bundle
from provenance.dsse import ENVELOPE_LIMITS, Envelope, EnvelopeSignature
from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from provenance.verify.policy import AllOf, Identity, MaxAge
from tests.factories import certified_author, make_authority
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import BASE_URL, REVIEW, make_home, sign_body
from verifier_api import crud
from verifier_api.models import KEYID_CHARS

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
    return bundle.envelope.signature_sha256().hex(), hashlib.sha256(leaf).hexdigest()


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


# Finding A1/A1b (attack2): idempotency was keyed on the envelope hash, which covers the unsigned
# keyid, and /v1/sign's leaves were never claimed: one signature got a second entry, and a fresh
# integrated time that let a stale signature pass maxAgeSeconds.

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _with_signature(bundle: dict[str, Any], **signature: str) -> dict[str, Any]:
    twin = copy.deepcopy(bundle)
    twin["dsseEnvelope"]["signatures"] = [signature]
    return twin


def _high_s(sig_b64: str) -> str:
    r, s = decode_dss_signature(base64.b64decode(sig_b64))
    return base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()


def _variants(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The same signature without its keyid, and its high-S twin with and without it (a keyid
    naming another key is refused, ``key.mismatch``)."""
    signature = bundle["dsseEnvelope"]["signatures"][0]
    sig, keyid = signature["sig"], signature["keyid"]
    return [
        _with_signature(bundle, sig=sig),
        _with_signature(bundle, sig=_high_s(sig), keyid=keyid),
        _with_signature(bundle, sig=_high_s(sig)),
    ]


def _verifies(api: Api, bundle: dict[str, Any]) -> bool:
    body = {"content": REVIEW, "bundle": bundle}
    response = api.client.post("/v1/verify", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 200, response.text
    return bool(response.json()["verified"])


def test_a_resubmitted_signature_gets_the_first_entry_whatever_its_keyid_or_s(api: Api) -> None:
    bundle = _signed(*_certified(api)).to_json()
    assert bundle["dsseEnvelope"]["signatures"][0].get("keyid"), "the author's bundle has a keyid"
    first = _submit(api, bundle)
    assert first.status_code == 201, first.text
    size = _size(api)
    for variant in _variants(bundle):
        again = _submit(api, variant)
        assert again.status_code == 200, again.text
        assert again.json()["logIndex"] == first.json()["logIndex"]
        assert _verifies(api, again.json()["bundle"]), "the answer does not match its entry"
    assert _size(api) == size, "one signature was logged twice"


def test_a_signature_first_submitted_without_its_keyid_is_not_logged_again_with_it(
    api: Api,
) -> None:
    bundle = _signed(*_certified(api)).to_json()
    first = _submit(
        api, _with_signature(bundle, sig=bundle["dsseEnvelope"]["signatures"][0]["sig"])
    )
    assert first.status_code == 201, first.text
    size = _size(api)
    again = _submit(api, bundle)
    assert (again.status_code, again.json()["logIndex"]) == (200, first.json()["logIndex"])
    assert "keyid" not in again.json()["bundle"]["dsseEnvelope"]["signatures"][0]
    assert _verifies(api, again.json()["bundle"])
    assert _size(api) == size


def test_the_keyid_column_holds_the_longest_keyid_an_envelope_may_carry() -> None:
    assert ENVELOPE_LIMITS.max_keyid_chars == KEYID_CHARS


@pytest.mark.parametrize("strip_keyid", [False, True], ids=["entries", "entries-and-keyid"])
def test_a_signing_service_bundle_stripped_of_its_entry_is_refused_not_logged_again(
    api: Api, strip_keyid: bool
) -> None:
    signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert signed.status_code == 200, signed.text
    stripped = copy.deepcopy(signed.json()["bundle"])
    stripped["verificationMaterial"]["tlogEntries"] = []
    if strip_keyid:
        stripped["dsseEnvelope"]["signatures"][0].pop("keyid", None)
    size = _size(api)
    response = _submit(api, stripped)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "log.signed_by_service"
    assert _size(api) == size, "the service's signature got a second entry (a fresh log time)"


def _certify(api: Api, key: Any) -> list[x509.Certificate]:
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": AUTHOR}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 201, response.text
    return [x509.load_pem_x509_certificate(p.encode()) for p in response.json()["certificateChain"]]


def test_a_logged_signature_is_not_logged_again_under_another_certificate_of_its_key(
    api: Api,
) -> None:
    """The author's first certificate expires, a second one certifies the same key: re-logging
    the old signature under the second one would give it a fresh log time."""
    key = generate_key(KeyType.P256)
    bundle = _signed(key, _certify(api, key))
    first = _submit(api, bundle.to_json())
    assert first.status_code == 201, first.text
    renewed = dataclasses.replace(bundle, certificates=tuple(_certify(api, key)))
    size = _size(api)
    response = _submit(api, renewed.to_json())
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "log.certificate_conflict"
    assert str(first.json()["logIndex"]) in response.json()["error"]["message"]
    assert _size(api) == size, "the signature got a second entry under its key's other certificate"


def test_a_signature_pending_under_another_certificate_of_its_key_is_pending(api: Api) -> None:
    key = generate_key(KeyType.P256)
    bundle = _signed(key, _certify(api, key))
    signature, signer = _digests(bundle)
    now = datetime.now(UTC)
    assert crud.claim_submission(api.service.engine, signature, signer, now=now) is None
    renewed = dataclasses.replace(bundle, certificates=tuple(_certify(api, key)))
    size = _size(api)
    response = _submit(api, renewed.to_json())
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "log.pending"
    assert _size(api) == size
    crud.release_submission(api.service.engine, crud.Claim(signature, signer, now, ""))
    assert _submit(api, renewed.to_json()).status_code == 201, "the refused claim was not released"


def test_a_claim_under_another_certificate_left_by_a_request_that_died_does_not_block(
    api: Api,
) -> None:
    key = generate_key(KeyType.P256)
    bundle = _signed(key, _certify(api, key))
    signature, signer = _digests(bundle)
    died = datetime.now(UTC) - timedelta(minutes=3)
    assert crud.claim_submission(api.service.engine, signature, signer, now=died) is None
    renewed = dataclasses.replace(bundle, certificates=tuple(_certify(api, key)))
    response = _submit(api, renewed.to_json())
    assert response.status_code == 201, response.text


def test_a_stale_authors_signature_resubmitted_without_keyid_stays_stale(api: Api) -> None:
    """A1b: the resubmission's answer carries the first entry's time, so a maximum age the
    signature fails is still failed (before, it got a second entry with a fresh time)."""
    bundle = _signed(*_certified(api)).to_json()
    first = _submit(api, bundle)
    assert first.status_code == 201, first.text
    logged_at = first.json()["bundle"]["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
    stripped = _with_signature(bundle, sig=bundle["dsseEnvelope"]["signatures"][0]["sig"])
    answer = Bundle.from_decoded(_submit(api, stripped).json()["bundle"])
    later = datetime.fromtimestamp(logged_at, UTC) + timedelta(minutes=2)
    _, verifier = api.service.authority.trust_root()
    policy = AllOf((Identity(AUTHOR), MaxAge(timedelta(minutes=1))))
    result = verifier.check(REVIEW.encode(), answer, policy, at=later)
    assert [f.code for f in result.failures] == ["policy.age.exceeded"]
    entry = answer.tlog_entries[0]
    assert (entry.log_index, entry.integrated_time) == (first.json()["logIndex"], logged_at)


def test_a_signature_logged_under_another_certificate_is_refused_despite_a_dead_claim_of_it(
    api: Api,
) -> None:
    """A claim without an index left by a request that died (here under a signer whose digest
    sorts first) must not hide the entry under another certificate: the submission is refused
    409 ``log.certificate_conflict`` at once, not queued, left out and answered ``log.pending``
    at every retry."""
    key = generate_key(KeyType.P256)
    bundle = _signed(key, _certify(api, key))
    signature, _signer = _digests(bundle)
    died = datetime.now(UTC) - timedelta(minutes=3)
    assert crud.claim_submission(api.service.engine, signature, "0" * 64, now=died) is None
    logged = _submit(api, bundle.to_json())
    assert logged.status_code == 201, logged.text
    renewed = dataclasses.replace(bundle, certificates=tuple(_certify(api, key)))
    size = _size(api)
    for _attempt in range(2):
        response = _submit(api, renewed.to_json())
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "log.certificate_conflict"
        assert str(logged.json()["logIndex"]) in response.json()["error"]["message"]
    assert _size(api) == size
