"""Attacker review 2026-12-03, F2: CPU amplification through the CA certificates a bundle carries.

A junk bundle (a self-made P-256 leaf) carried same-named attacker CAs whose RSA keys had a public
exponent as large as the modulus: every signature check with such a key is a full modular
exponentiation (OpenSSL accepts any odd ``e < n``), the path validator and the diagnosis of its
failure repeated them, and nothing was remembered, so one unauthenticated ``POST /verify`` cost
seconds of CPU. These tests count the expensive operations (signature checks, path validator runs)
instead of timing them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from math import gcd
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)
from cryptography.x509.oid import NameOID

from provenance import trust_store
from provenance.errors import CertificateError
from provenance.identity import TrustRoot, validate_chain
from provenance.identity import chain as chain_module
from provenance.identity.profile import DOCUMENT_SIGNING
from provenance.keys import signing_key_from_cryptography
from provenance.verify.policy import Identity
from tests.adversarial.attack import CERT_TRUST, codes
from tests.factories import IDENTITY, NOW, sign

EVIL = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "Evil CA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Evil"),
    ]
)


def _huge_exponent_rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key whose public exponent is about as large as its modulus (the PoC's key)."""
    base = rsa.generate_private_key(65537, bits).private_numbers()
    p, q = base.p, base.q
    phi = (p - 1) * (q - 1)
    while True:
        e = secrets.randbits(bits - 2) | (1 << (bits - 3)) | 1
        if gcd(e, phi) == 1:
            break
    d = pow(e, -1, phi)
    public = rsa.RSAPublicNumbers(e, p * q)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public)
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _ca(
    public: CertificateIssuerPublicKeyTypes,
    signer: CertificateIssuerPrivateKeyTypes,
    name: x509.Name = EVIL,
) -> x509.Certificate:
    """A CA certificate for ``public``, named and issued by ``name``, signed by ``signer``."""
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
        .sign(signer, hashes.SHA256())
    )


def _leaf(
    key: ec.EllipticCurvePrivateKey, issuer: CertificateIssuerPrivateKeyTypes
) -> x509.Certificate:
    """A document-signing leaf for IDENTITY issued under EVIL by ``issuer``."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .issuer_name(EVIL)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(IDENTITY)]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
            critical=False,
        )
        .sign(issuer, hashes.SHA256())
    )


def _cycle(keys: list[Any]) -> list[x509.Certificate]:
    """Same-named CA certificates, each key certified by the next one (a cycle, as in the PoC)."""
    return [_ca(key.public_key(), keys[(i + 1) % len(keys)]) for i, key in enumerate(keys)]


class _Counter:
    """Counts calls of a module function it wraps."""

    def __init__(self) -> None:
        self.calls = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return function(*args, **kwargs)

        return counted


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counter]:
    """Counts the certificate signature checks chain.py makes itself (diagnosis, self-signed)."""
    counter = _Counter()
    monkeypatch.setattr(chain_module, "_issued_by", counter.wrap(chain_module._issued_by))
    monkeypatch.setattr(chain_module, "_self_signed", counter.wrap(chain_module._self_signed))
    yield counter


@pytest.fixture
def validator_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counter]:
    """Counts the runs of the path validator (pyca's ``ClientVerifier.verify``)."""
    counter = _Counter()
    original = chain_module._verifier

    class _Counted:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def verify(self, leaf: x509.Certificate, untrusted: list[x509.Certificate]) -> Any:
            counter.calls += 1
            return self._inner.verify(leaf, untrusted)

    monkeypatch.setattr(
        chain_module, "_verifier", lambda *args, **kwargs: _Counted(original(*args, **kwargs))
    )
    yield counter


def test_bundle_ca_with_a_huge_rsa_exponent_is_a_profile_failure_before_any_signature_check(
    signature_checks: _Counter, validator_runs: _Counter
) -> None:
    cas = [_huge_exponent_rsa(), _huge_exponent_rsa()]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    bundle = sign(
        signing_key_from_cryptography(leaf_key), chain=[_leaf(leaf_key, cas[0]), *_cycle(cas)]
    )
    assert codes(bundle, CERT_TRUST, policy=Identity(IDENTITY)) == ["certificate.profile"]
    assert (signature_checks.calls, validator_runs.calls) == (0, 0)


def test_bundle_ca_with_an_rsa_key_over_4096_bits_is_a_profile_failure(
    signature_checks: _Counter,
) -> None:
    modulus = secrets.randbits(8192) | (1 << 8191) | 1  # never used: refused by its size
    big = rsa.RSAPublicNumbers(65537, modulus).public_key()
    issuer = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    chain = [_leaf(leaf_key, issuer), _ca(big, issuer)]
    with pytest.raises(CertificateError) as caught:
        validate_chain(chain, CERT_TRUST, NOW)
    assert caught.value.code == "certificate.profile"
    assert "8192" in str(caught.value)
    assert signature_checks.calls == 0


def test_bundle_ca_with_an_ordinary_rsa_key_is_still_path_material() -> None:
    """RSA 2048 with e = 65537 is in the CA profile (identity-v1 §2): a foreign chain of such CAs
    is untrusted for want of an anchor, not refused for its key."""
    ca_key = rsa.generate_private_key(65537, 2048)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    chain = [
        _leaf(leaf_key, ca_key),
        _ca(ca_key.public_key(), ec.generate_private_key(ec.SECP256R1())),
    ]
    with pytest.raises(CertificateError) as caught:
        validate_chain(chain, CERT_TRUST, NOW)
    assert caught.value.code == "certificate.untrusted"


def test_an_untrusted_chain_is_validated_once_then_refused_from_the_cache(
    signature_checks: _Counter, validator_runs: _Counter
) -> None:
    cas = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    chain = [_leaf(leaf_key, cas[0]), *_cycle(cas)]
    for moment in (NOW, NOW + timedelta(hours=1)):
        with pytest.raises(CertificateError) as caught:
            validate_chain(chain, CERT_TRUST, moment)
        assert caught.value.code == "certificate.untrusted"
    assert validator_runs.calls == 1
    first = signature_checks.calls
    with pytest.raises(CertificateError):
        validate_chain(chain, CERT_TRUST, NOW + timedelta(days=2))
    assert (validator_runs.calls, signature_checks.calls) == (1, first)


def test_the_diagnosis_checks_each_certificate_pair_at_most_once(
    signature_checks: _Counter,
) -> None:
    """Three same-named CAs certifying each other (every pair names the other as issuer): the
    search for signature paths enumerates every order of them, but checks each (certificate,
    issuer) signature once: at most (1 + 3) x (3 + anchors) checks, plus the self-signed tests."""
    cas = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    chain = [_leaf(leaf_key, cas[0]), *_cycle(cas)]
    trust = TrustRoot(name="other", roots=CERT_TRUST.roots)
    with pytest.raises(CertificateError):
        validate_chain(chain, trust, NOW)
    untrusted = len(chain) - 1
    pairs = (1 + untrusted) * (untrusted + len(trust.roots) + len(trust.intermediates))
    assert signature_checks.calls <= pairs + untrusted


def test_a_foreign_rsa_authority_in_the_trust_root_still_anchors_its_chain() -> None:
    """The CA key check does not narrow what a trust root may anchor (identity-v1 §2): an RSA
    root with an RSA issuing CA carried in the bundle validates."""
    root_key, issuing_key = (
        rsa.generate_private_key(65537, 2048),
        rsa.generate_private_key(65537, 2048),
    )
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign Root")])
    root = _ca(root_key.public_key(), root_key, root_name)
    issuing = (
        x509.CertificateBuilder()
        .subject_name(EVIL)
        .issuer_name(root_name)
        .public_key(issuing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(issuing_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    validated = validate_chain(
        [_leaf(leaf_key, issuing_key), issuing], TrustRoot(name="foreign", roots=(root,)), NOW
    )
    assert validated.identities == (IDENTITY,)


def test_trust_store_discovery_validates_a_junk_chain_once_per_publisher(
    validator_runs: _Counter,
) -> None:
    """Discovery runs the Verifier, then (its certificate step having failed) asks whether the
    chain leads to the publisher's anchors at another time (vouches): the second validation of an
    untrusted chain is answered by the refusal cache (attacker review F2b)."""
    cas = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    bundle = sign(
        signing_key_from_cryptography(leaf_key), chain=[_leaf(leaf_key, cas[0]), *_cycle(cas)]
    )
    assert codes(bundle, CERT_TRUST, policy=Identity(IDENTITY)) == ["certificate.untrusted"]
    assert trust_store.vouches(bundle.to_bytes(), CERT_TRUST, NOW) is False
    assert validator_runs.calls == 1
