"""Attacker finding F1 (session 3): a publisher of the trust store that republishes another
publisher's root CA (without its CRL, its log requirement or its CRL location) made a certificate
that the other publisher revoked VERIFIED through store discovery, even with the victim's identity
and CA pinned. Every publisher that vouches for a signer must now agree: the victim's refusal of
its own revoked certificate is the answer. These tests failed before the fix."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from pydantic import SecretStr

from provenance.armor import armor_text
from provenance.bundle import Bundle
from provenance.identity.trust import TrustRoot
from provenance.tlog.entry import signer_binding
from provenance.trust_store import TrustStore, TrustStoreError
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier
from tests.integration.api.support import PASSPHRASE
from tests.integration.trust.support import Publisher, prov, served_publisher
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.scopes import Scope as KeyScope
from verifier_api.settings import Settings

TEXT = "The desk lamp is sturdy and bright.\n"


@dataclass
class Scene:
    """Alpha signed TEXT and then revoked its signing certificate (keyCompromise); the mirror's
    trust root holds alpha's root CA and log key, no CRL, no requireLog."""

    alpha: Publisher
    mirror: Publisher
    store: Path
    bundle: dict[str, Any]
    review: Path
    pin: str


class _Republishing:
    """The mirror's authority: its own trust root plus alpha's root and log keys, nothing else."""

    def __init__(self, real: Any, victim: TrustRoot) -> None:
        self.real, self.victim = real, victim

    def trust_root(self) -> tuple[TrustRoot, Verifier]:
        own, _ = self.real.trust_root()
        doctored = replace(
            own,
            roots=(*own.roots, *self.victim.roots),
            log_keys=(*own.log_keys, *self.victim.log_keys),
            require_log=False,
            crl_locations=(),
        )
        return doctored, Verifier(doctored)


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    with (
        served_publisher(tmp_path / "homes", "Alpha Reviews") as alpha,
        served_publisher(tmp_path / "homes", "Mirror") as mirror,
    ):
        bundle = alpha.sign(TEXT)
        service = alpha.service
        leaf = service.publisher.service_chain[0]
        # reported stolen since before the signature (the invalidity date), so that the review
        # is revoked whichever second the log and the revocation fall in
        stolen_since = datetime.now(UTC) - timedelta(days=1)
        service.authority.revoke(leaf, _key_compromise(), stolen_since, datetime.now(UTC))
        victim, _ = service.authority.trust_root()
        distribution = mirror.service.distribution
        distribution._authority = _Republishing(distribution._authority, victim)  # type: ignore[union-attr]
        distribution.refresh(datetime.now(UTC))  # type: ignore[union-attr]
        store = tmp_path / "store"
        for name, publisher in (("alpha", alpha), ("zz-mirror", mirror)):
            code, _, err = prov(
                "trust", "add", name, publisher.url, "--root", publisher.root_json, "--store", store
            )
            assert code == 0, err
        review = tmp_path / "review.txt"
        review.write_text(TEXT)
        (tmp_path / "review.txt.prov.json").write_text(json.dumps(bundle))
        spki = (
            victim.roots[0]
            .public_key()
            .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        )
        pin = hashlib.sha256(spki).hexdigest()
        yield Scene(alpha, mirror, store, bundle, review, pin)


def _key_compromise() -> Any:
    from cryptography import x509  # noqa: PLC0415

    return x509.ReasonFlags.key_compromise


def _verify(scene: Scene, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    code, out, _ = prov(
        "verify",
        scene.review,
        "--identity",
        scene.alpha.identity,
        "--issuer",
        scene.pin,
        "--trust-store",
        scene.store,
        "--json",
        *extra,
    )
    return code, json.loads(out)


def test_the_mirror_alone_would_verify_the_revoked_certificate(scene: Scene) -> None:
    code, answer = _verify(scene, "--publisher", "zz-mirror")
    assert code == 0 and answer["verified"]


def test_discovery_answers_with_the_victims_refusal_not_the_mirrors_verdict(scene: Scene) -> None:
    code, answer = _verify(scene)
    assert code == 1
    assert not answer["verified"]
    assert answer["publisher"] == "alpha"
    assert "certificate.revoked" in [f["code"] for f in answer["findings"] if not f["ok"]]


def test_trust_store_verify_returns_the_refusal_of_a_vouching_publisher(scene: Scene) -> None:
    found = TrustStore(scene.store).verify(
        TEXT.encode(),
        json.dumps(scene.bundle).encode(),
        Identity(scene.alpha.identity),
        at=datetime.now(UTC),
    )
    assert found.publisher == "alpha"
    assert not found.result.verified
    assert "certificate.revoked" in [f.code for f in found.result.findings]


def test_clear_signed_discovery_answers_with_the_victims_refusal(
    scene: Scene, tmp_path: Path
) -> None:
    document = tmp_path / "review.asc"
    document.write_text(armor_text(TEXT, Bundle.from_json(scene.bundle)))
    code, out, err = prov(
        "verify", document, "--identity", scene.alpha.identity, "--trust-store", scene.store
    )
    assert code == 1, out + err
    assert "certificate.revoked" in out + err


def test_the_service_keeps_its_own_refusal_when_a_store_publisher_would_verify(
    scene: Scene,
) -> None:
    """Alpha's own ``/v1/verify`` with the mirror in its trust store: one extra log entry from the
    mirror's log made alpha's log step fail before its certificate step, and the service then
    asked the store, where the mirror verified the revoked certificate."""
    parsed = Bundle.from_json(scene.bundle)
    extra = scene.mirror.service.sequencer.submit(
        parsed.envelope.sha256(),
        *signer_binding(parsed.certificates, scene.alpha.service.publisher.service_key.public_key),
    )
    doctored = json.loads(json.dumps(scene.bundle))
    doctored["verificationMaterial"]["tlogEntries"].append(extra.to_json())
    code, _, err = prov("trust", "remove", "alpha", "--store", scene.store)
    assert code == 0, err  # a service need not list itself in its own trust store
    app = create_app(
        Settings(home=scene.alpha.home, passphrase=SecretStr(PASSPHRASE), trust_store=scene.store)
    )
    policy = {"identity": scene.alpha.identity, "issuer": scene.pin}
    with TestClient(app) as client:
        _, key = crud.create_api_key(
            app.state.service.engine, "t", KeyScope.VERIFY, now=datetime.now(UTC)
        )
        response = client.post(
            "/v1/verify",
            json={"content": TEXT, "bundle": doctored, "policy": policy},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verified"] is False
    assert "publisher" not in answer
    assert [f["code"] for f in answer["findings"] if not f["ok"]] == ["log.untrusted"]


def test_discovery_fails_closed_when_the_vouching_publishers_trust_root_expired(
    scene: Scene,
) -> None:
    """Attacker finding A3: once alpha's store entry expired, discovery skipped it and the mirror
    answered VERIFIED for alpha's revoked certificate again (a network attacker only has to keep
    alpha's updates away). Failed before: verified by zz-mirror."""
    record = scene.store / "publishers" / "alpha" / "publisher.json"
    kept_away = json.loads(record.read_text())  # alpha's last update, a week ago
    expired = datetime.now(UTC) - timedelta(minutes=1)
    kept_away["expires"] = expired.isoformat()
    record.write_text(json.dumps(kept_away))
    store = TrustStore(scene.store)
    at = datetime.now(UTC)
    expiries = {record.name: record.expires for record in store.records()}
    assert expiries["alpha"] < at < expiries["zz-mirror"]
    with pytest.raises(TrustStoreError) as raised:
        store.verify(
            TEXT.encode(),
            json.dumps(scene.bundle).encode(),
            Identity(scene.alpha.identity),
            at=at,
        )
    assert raised.value.code == "trust.expired"
    assert "'alpha' vouches for this signer" in raised.value.message
