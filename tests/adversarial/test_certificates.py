"""Certificate attacks: impostor authorities, roots carried inside the bundle, a leaf acting as a
CA, and certificates whose DER breaks the parser (regressions found by the atheris target)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from fuzz.oracle import positive_vectors
from provenance.identity.authority import create_authority
from provenance.keys import SigningKey, generate_key
from tests.adversarial.attack import AUTHOR, AUTHORITY, CERT_TRUST, CERTIFIED, SIGNED_AT, codes
from tests.factories import IDENTITY, NOW, certified_author, sign

REGRESSIONS = Path(__file__).parent / "regressions"


@pytest.mark.parametrize("include_root", [False, True], ids=["without-root", "with-root"])
def test_chain_from_an_impostor_authority_with_identical_names_is_untrusted(
    include_root: bool,
) -> None:
    impostor = create_authority("Reviews Example", now=NOW - timedelta(days=30)).authority
    author = certified_author(impostor, IDENTITY, issued=SIGNED_AT)
    chain = [*author.chain, impostor.root_certificate] if include_root else author.chain
    bundle = sign(author.key, chain=chain)
    assert codes(bundle, CERT_TRUST) == ["certificate.untrusted"]


DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _forged_leaf(
    identity: str, issuer: x509.Certificate, subject_key: SigningKey, signing_key: SigningKey
) -> x509.Certificate:
    """A leaf that meets the profile (EKU, KeyUsage, SAN, AKI naming ``issuer``) but is signed by
    ``signing_key``."""
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    public_key = subject_key.to_cryptography().public_key()
    usage = dict.fromkeys(
        [
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ],
        False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=forged"))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), False
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), False)
        .add_extension(x509.KeyUsage(digital_signature=True, **usage), True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), False
        )
    )
    return builder.sign(signing_key.to_cryptography(), hashes.SHA256())


def test_trusted_root_carried_inside_the_bundle_does_not_anchor_a_self_made_leaf() -> None:
    key = generate_key()
    root = CERT_TRUST.roots[0]
    forged = _forged_leaf(IDENTITY, AUTHOR.chain[1], key, key)
    bundle = sign(key, chain=[forged, *AUTHOR.chain[1:], root])
    assert codes(bundle, CERT_TRUST) == ["certificate.untrusted"]


def test_leaf_of_the_trusted_authority_cannot_act_as_a_ca() -> None:
    victim_key = generate_key()
    forged = _forged_leaf("https://reviews.example/u/1", AUTHOR.chain[0], victim_key, AUTHOR.key)
    bundle = sign(victim_key, chain=[forged, *AUTHOR.chain])
    # The path exists but the author's leaf is no CA: the profile rule (CA flag) refuses it.
    assert codes(bundle, CERT_TRUST) == ["certificate.profile"]


def test_a_chain_without_the_leaf_of_the_signing_key_fails_the_signature() -> None:
    bundle = replace(CERTIFIED, certificates=tuple(AUTHOR.chain[1:]))
    # The signature's keyid names the author's key, not the first certificate's.
    assert codes(bundle, CERT_TRUST) == ["key.mismatch"]
    signature = replace(CERTIFIED.envelope.signatures[0], keyid="")
    unhinted = replace(bundle, envelope=replace(bundle.envelope, signatures=(signature,)))
    assert codes(unhinted, CERT_TRUST) == ["signature.invalid"]


@pytest.mark.parametrize(
    ("regression", "code"),
    [
        ("leaf-subject-unparsable.json", "certificate.malformed"),
        ("leaf-public-key-invalid.json", "certificate.malformed"),
        ("certificate-version-10.json", "bundle.malformed"),
    ],
)
def test_certificate_der_that_breaks_lazy_parsing_is_a_finding_not_a_crash(
    regression: str, code: str
) -> None:
    vector = next(v for v in positive_vectors() if v.name == "20-x509-identity")
    data = (REGRESSIONS / regression).read_bytes()
    result = vector.verifier.check(vector.content, data, vector.policy, at=vector.at)
    assert [f.code for f in result.failures] == [code]
    assert not result.verified


def _with_chain(*certificates: x509.Certificate) -> list[str]:
    return codes(replace(CERTIFIED, certificates=certificates), CERT_TRUST)


def test_a_chain_that_repeats_the_leaf_is_refused() -> None:
    leaf, issuing = AUTHOR.chain
    assert _with_chain(leaf, leaf, issuing) == ["certificate.chain.extra"]
    assert _with_chain(leaf, issuing, leaf) == ["certificate.chain.extra"]


def test_a_chain_with_an_unused_extra_certificate_is_refused() -> None:
    leaf, issuing = AUTHOR.chain
    stranger = create_authority("Unrelated", now=NOW - timedelta(days=30)).authority
    assert _with_chain(leaf, issuing, stranger.issuing_certificate) == ["certificate.chain.extra"]
    other_leaf = certified_author(AUTHORITY, issued=SIGNED_AT - timedelta(days=1)).chain[0]
    assert _with_chain(leaf, other_leaf, issuing) == ["certificate.chain.extra"]


def test_a_chain_out_of_path_order_is_refused() -> None:
    leaf, issuing = AUTHOR.chain
    root = CERT_TRUST.roots[0]
    assert _with_chain(leaf, root, issuing) == ["certificate.chain.extra"]


def test_every_prefix_of_the_validated_path_verifies() -> None:
    leaf, issuing = AUTHOR.chain
    root = CERT_TRUST.roots[0]
    for chain in ((leaf,), (leaf, issuing), (leaf, issuing, root)):
        assert _with_chain(*chain) == []
