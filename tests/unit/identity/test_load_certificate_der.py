"""``load_certificate_der`` takes every certificate a CA writes, whatever its key type and length
forms: the canonical-outer-encoding rule refuses only re-encodings (tests/adversarial)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from provenance.identity.profile import certificate_twins, load_certificate_der
from tests.shared import shared_dir

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _self_signed(
    key: object, algorithm: hashes.HashAlgorithm | None, without_extensions: bool
) -> bytes:
    units = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{n}" * 60) for n in range(4)]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "load"), *units])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
    )
    if not without_extensions:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    certificate = builder.sign(key, algorithm)  # type: ignore[arg-type]
    return certificate.public_bytes(Encoding.DER)


KEYS: dict[str, tuple[object, hashes.HashAlgorithm | None]] = {
    "p256": (lambda: ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()),
    "p384": (lambda: ec.generate_private_key(ec.SECP384R1()), hashes.SHA384()),
    "rsa2048": (lambda: rsa.generate_private_key(65537, 2048), hashes.SHA256()),
    "rsa4096": (lambda: rsa.generate_private_key(65537, 4096), hashes.SHA256()),
    "ed25519": (ed25519.Ed25519PrivateKey.generate, None),
}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_a_ca_written_certificate_loads_as_its_own_der(kind: str) -> None:
    make, algorithm = KEYS[kind]
    assert callable(make)
    der = _self_signed(make(), algorithm, without_extensions=False)
    assert load_certificate_der(der).public_bytes(Encoding.DER) == der


def test_a_certificate_without_extensions_loads() -> None:
    der = _self_signed(
        ec.generate_private_key(ec.SECP256R1()), hashes.SHA256(), without_extensions=True
    )
    assert load_certificate_der(der).public_bytes(Encoding.DER) == der


def _raw_bytes_in(value: object) -> list[bytes]:
    if isinstance(value, dict):
        found = [base64.b64decode(value["rawBytes"])] if "rawBytes" in value else []
        return found + [der for item in value.values() for der in _raw_bytes_in(item)]
    if isinstance(value, list):
        return [der for item in value for der in _raw_bytes_in(item)]
    return []


def test_certificates_of_other_tools_load_as_their_own_der() -> None:
    """Fulcio leaves and sigstore's trust roots (sigstore-python's fixtures), and the C2PA
    reference test roots: written by CAs we did not write."""
    pem = (shared_dir("fixtures", "c2pa") / "test_cert_root_bundle.pem").read_bytes()
    ders = [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]
    sigstore = shared_dir("fixtures", "sigstore")
    for name in ("bundle_v3.txt.sigstore", "staging_trusted_root.json"):
        ders += _raw_bytes_in(json.loads((sigstore / name).read_text()))
    certificates = [der for der in ders if _is_certificate(der)]
    assert len(certificates) >= 10
    for der in certificates:
        assert load_certificate_der(der).public_bytes(Encoding.DER) == der


def _is_certificate(der: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        return False  # a public key's rawBytes in the trusted root
    return True


def test_bytes_that_are_not_a_certificate_are_a_value_error() -> None:
    with pytest.raises(ValueError):
        load_certificate_der(b"\x30\x03\x02\x01\x00")


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_an_ecdsa_certificate_has_a_twin_that_validates_as_it_does(curve: ec.EllipticCurve) -> None:
    key = ec.generate_private_key(curve)
    certificate = load_certificate_der(_self_signed(key, hashes.SHA256(), without_extensions=False))
    twins = [load_certificate_der(der) for der in certificate_twins(certificate)]
    assert all(t.tbs_certificate_bytes == certificate.tbs_certificate_bytes for t in twins)
    valid = []
    for twin in twins:
        try:
            twin.verify_directly_issued_by(twin)
            valid.append(twin)
        except InvalidSignature:
            pass
    assert len(valid) == 1 and valid[0] != certificate


@pytest.mark.parametrize("kind", ["rsa2048", "ed25519"])
def test_a_certificate_not_signed_by_ecdsa_has_no_twin(kind: str) -> None:
    make, algorithm = KEYS[kind]
    assert callable(make)
    certificate = load_certificate_der(_self_signed(make(), algorithm, without_extensions=False))
    assert certificate_twins(certificate) == ()
