"""Certificates, revocations, the CRL, and the log's read API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.bundle import Bundle
from provenance.encoding import b64decode_strict
from provenance.identity import create_csr
from provenance.identity.trust import TrustRoot
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from provenance.tlog import merkle, tiles
from provenance.tlog.note import NoteVerifier, open_checkpoint
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier
from tests.integration.api.conftest import Api
from tests.integration.api.support import BASE_URL, REVIEW, SERVICE_IDENTITY, sign_body

AUTHOR = f"{BASE_URL}/u/4242"


def _issue(api: Api) -> tuple[Any, list[x509.Certificate], str]:
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, "https://ignored.example/x").decode(), "identity": AUTHOR}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 201, response.text
    document = response.json()
    chain = [x509.load_pem_x509_certificate(p.encode()) for p in document["certificateChain"]]
    return key, chain, document["serialNumber"]


def _trust(api: Api) -> TrustRoot:
    return TrustRoot.from_json(api.client.get("/.well-known/provenance/trust-root.json").content)


def _author_bundle(key: Any, chain: list[x509.Certificate]) -> Bundle:
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    return Signer(key, chain).sign(REVIEW.encode(), "review.txt", predicate)


def _logged(api: Api, bundle: Bundle) -> Bundle:
    """The author's bundle after ``POST /v1/log/entries`` (as the author's tool submits it)."""
    body = {"bundle": bundle.to_json()}
    response = api.client.post("/v1/log/entries", json=body, headers=api.keys.header("log"))
    assert response.status_code == 201, response.text
    return Bundle.from_json(response.json()["bundle"])


def test_issued_certificate_names_the_asserted_identity_and_chains_to_the_root(api: Api) -> None:
    key, chain, serial = _issue(api)
    san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [AUTHOR]
    assert f"{chain[0].serial_number:x}" == serial
    # The served trust root requires the log (an author's bundle is logged through
    # POST /v1/log/entries); a verifier that accepts unlogged signatures validates the author's own
    # chain to the served root.
    unlogged_ok = replace(_trust(api), require_log=False)
    result = Verifier(unlogged_ok).check(
        REVIEW.encode(), _author_bundle(key, chain), Identity(AUTHOR), at=datetime.now(UTC)
    )
    assert result.verified, result.failures


def test_revocation_reaches_the_crl_and_the_verifier(api: Api) -> None:
    key, chain, serial = _issue(api)
    bundle = _logged(api, _author_bundle(key, chain))
    before = api.client.get("/v1/crl")
    # The key is unsafe since the certificate was issued: the logged signature, made before the
    # revocation date, is revoked through the invalidity date (whatever the clock's second).
    since = chain[0].not_valid_before_utc.isoformat()
    body = {"serialNumber": serial, "reason": "keyCompromise", "invalidityDate": since}
    response = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["reason"] == "keyCompromise"
    crl = x509.load_der_x509_crl(api.client.get("/v1/crl").content)
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    old_number = x509.load_der_x509_crl(before.content).extensions.get_extension_for_class(
        x509.CRLNumber
    )
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > (
        old_number.value.crl_number
    )
    check = {"content": REVIEW, "bundle": bundle.to_json(), "policy": {"identity": AUTHOR}}
    result = api.client.post("/v1/verify", json=check, headers=api.keys.header("verify")).json()
    assert [f["code"] for f in result["findings"] if not f["ok"]] == ["certificate.revoked"]
    offline = Verifier(replace(_trust(api), require_log=False)).check(
        REVIEW.encode(), bundle, Identity(AUTHOR), at=datetime.now(UTC)
    )
    assert [f.code for f in offline.failures] == ["certificate.revoked"]


def test_revoking_twice_is_a_conflict(api: Api) -> None:
    _, chain, _ = _issue(api)
    pem = chain[0].public_bytes(Encoding.PEM).decode()
    body = {"certificate": pem, "reason": "superseded"}
    first = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    again = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["error"]["code"] == "conflict"


def test_revoking_a_certificate_this_ca_did_not_issue_is_not_found(api: Api) -> None:
    body = {"serialNumber": "abcdef", "reason": "superseded"}
    response = api.client.post("/v1/revocations", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "certificate.unknown"


def test_certificate_for_a_bad_identity_is_refused(api: Api) -> None:
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": "http://insecure.example/u/1"}
    response = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "authority.refused"


def _sign(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_log_serves_checkpoint_entries_proofs_and_tiles(api: Api) -> None:
    first = _sign(api)
    second = _sign(api)
    trust = _trust(api)
    origin = first["bundle"]["verificationMaterial"]["tlogEntries"][0]["logId"]["origin"]
    verifiers = [NoteVerifier.from_key_string(k) for k in trust.log_keys]
    note = api.client.get("/v1/log/checkpoint").text
    checkpoint = open_checkpoint(note, verifiers, origin=origin)
    assert checkpoint.size > second["logIndex"]
    entry = api.client.get(f"/v1/log/entries/{first['logIndex']}").json()
    leaf = b64decode_strict(entry["leafHash"])
    proof = api.client.get(
        "/v1/log/proofs/inclusion",
        params={"index": first["logIndex"], "treeSize": checkpoint.size},
    ).json()
    hashes = [b64decode_strict(h) for h in proof["hashes"]]
    merkle.verify_inclusion(first["logIndex"], checkpoint.size, leaf, hashes, checkpoint.root_hash)
    tile = tiles.TileId(0, 0, tiles.tile_width(0, 0, checkpoint.size))
    data = api.client.get(f"/v1/log/{tile.path}").content
    assert tiles.tile_hashes(data)[first["logIndex"]] == leaf
    bundle = api.client.get(f"/v1/log/{tile.entries_path}").content
    assert len(tiles.decode_entry_bundle(bundle)) == checkpoint.size


def test_log_consistency_proof_links_old_and_new_checkpoints(api: Api) -> None:
    first = _sign(api)
    old = first["bundle"]["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    _sign(api)
    new_size = first["logIndex"] + 2
    response = api.client.get(
        "/v1/log/proofs/consistency", params={"first": old["treeSize"], "second": new_size}
    )
    assert response.status_code == 200, response.text
    proof = response.json()
    new_root = api.client.get(
        "/v1/log/proofs/inclusion", params={"index": 0, "treeSize": new_size}
    ).json()["rootHash"]
    merkle.verify_consistency(
        old["treeSize"],
        new_size,
        b64decode_strict(old["rootHash"]),
        b64decode_strict(new_root),
        [b64decode_strict(h) for h in proof["hashes"]],
    )


def test_log_answers_404_beyond_its_size(api: Api) -> None:
    for path in (
        "/v1/log/entries/999999",
        "/v1/log/proofs/inclusion?index=999999",
        "/v1/log/proofs/consistency?first=999999",
        "/v1/log/tile/0/999",
        "/v1/log/tile/entries/999",
        "/v1/log/tile/not-a-tile",
    ):
        response = api.client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "log.not_found", path


def test_issued_certificates_point_at_the_served_crl(api: Api) -> None:
    _, chain, _ = _issue(api)
    points = chain[0].extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    urls = [name.value for point in points for name in point.full_name or []]
    assert urls == [f"{BASE_URL}/v1/crl"]
    served = x509.load_der_x509_crl(api.client.get("/v1/crl").content)
    assert served.issuer == chain[0].issuer


def test_require_fresh_crl_is_reachable_from_the_api_policy(api: Api) -> None:
    signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert signed.status_code == 200, signed.text
    bundle = signed.json()["bundle"]
    policy = {"identity": SERVICE_IDENTITY, "requireFreshCrl": True}
    check = {"content": REVIEW, "bundle": bundle, "policy": policy}
    result = api.client.post("/v1/verify", json=check, headers=api.keys.header("verify")).json()
    assert result["verified"], result["findings"]
    check["policy"] = {"identity": SERVICE_IDENTITY, "requireFreshCrl": "yes"}
    response = api.client.post("/v1/verify", json=check, headers=api.keys.header("verify"))
    assert response.status_code == 422
    assert "policy.malformed" in response.text


def test_served_trust_root_requires_the_log_for_bundles_but_not_for_media(api: Api) -> None:
    trust = _trust(api)
    assert trust.require_log is True
    assert trust.require_log_for_media is False
    document = api.client.get("/.well-known/provenance/trust-root.json").json()
    assert (document["requireLog"], document["requireLogForMedia"]) == (True, False)


def test_unlogged_author_bundle_fails_log_missing_and_verifies_once_submitted(api: Api) -> None:
    key, chain, _ = _issue(api)
    bundle = _author_bundle(key, chain)
    unlogged = Verifier(_trust(api)).check(
        REVIEW.encode(), bundle.to_bytes(), Identity(AUTHOR), at=datetime.now(UTC)
    )
    assert [f.code for f in unlogged.failures] == ["log.missing"]
    logged = _logged(api, bundle)
    assert logged.envelope == bundle.envelope
    assert logged.certificates == bundle.certificates
    result = Verifier(_trust(api)).check(
        REVIEW.encode(), logged.to_bytes(), Identity(AUTHOR), at=datetime.now(UTC)
    )
    assert result.verified, result.failures
    check = {"content": REVIEW, "bundle": logged.to_json(), "policy": {"identity": AUTHOR}}
    answer = api.client.post("/v1/verify", json=check, headers=api.keys.header("verify")).json()
    assert answer["verified"] is True, answer["findings"]
