"""Issue 12.3: `--issuer` must pin a CA, not a name. Two publishers in one trust root: the second
names its CAs exactly like the first's and certifies the first's user. A name (CN or full RFC 4514
subject) is display only and is refused as a pin; a pin is the SHA-256 of a CA's SPKI or of its
certificate, and holds only for a chain through that CA."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from cli.main import app
from provenance.bundle import Bundle
from provenance.errors import PolicyError
from provenance.identity.authority import create_authority
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.verify.policy import AllOf, Identity, Issuer, policy_from_json
from tests.adversarial.attack import AUTHORITY, CERT_TRUST, CERTIFIED, SIGNED_AT, check, codes
from tests.factories import IDENTITY, REVIEW, certified_author, sign

SECOND_PUBLISHER = create_authority(
    AUTHORITY.name, now=AUTHORITY.root_certificate.not_valid_before_utc
)
SHARED_TRUST = replace(
    CERT_TRUST,
    roots=(*CERT_TRUST.roots, SECOND_PUBLISHER.authority.root_certificate),
    intermediates=(*CERT_TRUST.intermediates, SECOND_PUBLISHER.authority.issuing_certificate),
)
_IMPOSTOR_AUTHOR = certified_author(SECOND_PUBLISHER.authority, IDENTITY, issued=SIGNED_AT)
IMPERSONATION = sign(_IMPOSTOR_AUTHOR.key, chain=_IMPOSTOR_AUTHOR.chain)


def spki_sha256(certificate: x509.Certificate) -> str:
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


ISSUING = AUTHORITY.issuing_certificate
ROOT = AUTHORITY.root_certificate
PINS = {
    "issuing-spki": spki_sha256(ISSUING),
    "issuing-certificate": fingerprint(ISSUING),
    "root-spki": spki_sha256(ROOT),
    "root-certificate-openssl-form": ":".join(
        f"{byte:02X}" for byte in bytes.fromhex(fingerprint(ROOT))
    ),
}


def test_the_two_publishers_names_are_identical() -> None:
    assert SECOND_PUBLISHER.authority.issuing_certificate.subject == ISSUING.subject
    assert codes(IMPERSONATION, SHARED_TRUST) == []  # the trust root vouches for both


@pytest.mark.parametrize("pin", PINS.values(), ids=PINS.keys())
def test_a_pin_of_the_first_publisher_refuses_the_second_publishers_certificate(pin: str) -> None:
    policy = AllOf([Identity(IDENTITY), Issuer(pin)])
    assert codes(IMPERSONATION, SHARED_TRUST, policy=policy) == ["policy.issuer.mismatch"]
    assert codes(CERTIFIED, SHARED_TRUST, policy=policy) == []


@pytest.mark.parametrize("pin", PINS.values(), ids=PINS.keys())
def test_identity_with_an_issuer_pin_refuses_the_second_publisher(pin: str) -> None:
    policy = Identity(IDENTITY, issuer=pin)
    assert codes(IMPERSONATION, SHARED_TRUST, policy=policy) == ["policy.issuer.mismatch"]
    assert codes(CERTIFIED, SHARED_TRUST, policy=policy) == []


NAMES = {
    "common-name": f"{AUTHORITY.name} Issuing CA",
    "rfc4514-subject": ISSUING.subject.rfc4514_string(),
    "short-hex": PINS["issuing-spki"][:40],
    "hex-with-junk": PINS["issuing-spki"] + "0",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_a_name_is_not_an_issuer_pin(name: str) -> None:
    with pytest.raises(PolicyError) as raised:
        Issuer(name)
    assert raised.value.code == "policy.malformed"
    with pytest.raises(PolicyError) as raised:
        policy_from_json({"identity": IDENTITY, "issuer": name})
    assert raised.value.code == "policy.malformed"


def test_json_policy_issuer_pin_refuses_the_second_publisher() -> None:
    policy = policy_from_json({"identity": IDENTITY, "issuer": PINS["issuing-spki"]})
    assert codes(IMPERSONATION, SHARED_TRUST, policy=policy) == ["policy.issuer.mismatch"]
    assert codes(CERTIFIED, SHARED_TRUST, policy=policy) == []


def test_result_names_the_pins_of_the_chain() -> None:
    signer = check(CERTIFIED, SHARED_TRUST).signer
    assert signer is not None
    assert signer.to_json()["issuerKeyIds"] == [spki_sha256(ISSUING), spki_sha256(ROOT)]
    assert signer.to_json()["issuerFingerprints"] == [fingerprint(ISSUING), fingerprint(ROOT)]


@dataclass(frozen=True)
class _Scene:
    trust: TrustRoot
    genuine: Bundle
    impersonation: Bundle
    issuing: x509.Certificate


def _scene_now() -> _Scene:
    """The same two publishers, made now: the CLI verifies at the clock's time."""
    now = datetime.now(UTC)
    first = create_authority("Reviews Example", now=now - timedelta(days=2)).authority
    second = create_authority("Reviews Example", now=now - timedelta(days=2)).authority
    trust = replace(
        export_trust_root(first, crl=None),
        roots=(first.root_certificate, second.root_certificate),
        intermediates=(first.issuing_certificate, second.issuing_certificate),
    )
    genuine = certified_author(first, IDENTITY, issued=now - timedelta(days=1))
    impostor = certified_author(second, IDENTITY, issued=now - timedelta(days=1))
    return _Scene(
        trust,
        sign(genuine.key, chain=genuine.chain),
        sign(impostor.key, chain=impostor.chain),
        first.issuing_certificate,
    )


def _cli_verify(tmp_path: Path, bundle: Bundle, trust: TrustRoot, issuer: str) -> tuple[int, str]:
    review = tmp_path / "review.txt"
    review.write_bytes(REVIEW)
    (tmp_path / "review.txt.prov.json").write_bytes(bundle.to_bytes())
    trust_file = tmp_path / "trust.json"
    trust_file.write_bytes(trust.to_json())
    args = ["verify", str(review), "--trust", str(trust_file), "--identity", IDENTITY, "--json"]
    result = CliRunner().invoke(app, [*args, "--issuer", issuer])
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["common-name", "rfc4514-subject"])
def test_cli_issuer_name_is_a_usage_error(tmp_path: Path, name: str) -> None:
    scene = _scene_now()
    given = {
        "common-name": "Reviews Example Issuing CA",
        "rfc4514-subject": scene.issuing.subject.rfc4514_string(),
    }[name]
    code, output = _cli_verify(tmp_path, scene.impersonation, scene.trust, given)
    assert code == 2, output
    assert "SHA-256" in output


def test_cli_issuer_pin_refuses_the_second_publisher(tmp_path: Path) -> None:
    scene = _scene_now()
    pin = spki_sha256(scene.issuing)
    code, output = _cli_verify(tmp_path, scene.impersonation, scene.trust, pin)
    assert code == 1
    assert [f["code"] for f in json.loads(output)["findings"] if not f["ok"]] == [
        "policy.issuer.mismatch"
    ]
    assert _cli_verify(tmp_path, scene.genuine, scene.trust, pin)[0] == 0
