"""The authority's certificate profiles and its directory on disk."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.errors import AuthorityError
from provenance.identity import (
    DOCUMENT_SIGNING,
    CertificateAuthority,
    build_crl,
    create_authority,
    issue_certificate,
    load_authority,
    revoke,
    save_authority,
)
from provenance.keys import KeyType, SigningKey, generate_key
from tests.unit.identity.factory import AUTHORITY_CREATED, IDENTITY, NOW

PASSPHRASE = b"correct horse battery staple"


def _constraints(certificate: x509.Certificate) -> x509.Extension[x509.BasicConstraints]:
    return certificate.extensions.get_extension_for_class(x509.BasicConstraints)


def _ski(certificate: x509.Certificate) -> bytes:
    return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def _aki(certificate: x509.Certificate) -> bytes | None:
    value = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    return value.key_identifier


@pytest.mark.parametrize(("which", "path_length"), [("root", 1), ("issuing", 0)])
def test_create_authority_builds_ca_profile(
    authority: CertificateAuthority, which: str, path_length: int
) -> None:
    certificate = authority.root_certificate if which == "root" else authority.issuing_certificate
    constraints = _constraints(certificate)
    assert constraints.critical
    assert constraints.value == x509.BasicConstraints(ca=True, path_length=path_length)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign and not usage.value.digital_signature
    assert _aki(certificate) == _ski(authority.root_certificate)


def test_create_authority_gives_root_twenty_years(authority: CertificateAuthority) -> None:
    root = authority.root_certificate
    assert root.not_valid_before_utc == AUTHORITY_CREATED
    assert root.not_valid_after_utc == AUTHORITY_CREATED + timedelta(days=20 * 365)
    assert root.subject == root.issuer
    assert authority.issuing_certificate.issuer == root.subject


def test_issue_certificate_builds_leaf_profile(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    constraints = _constraints(leaf)
    assert constraints.critical and constraints.value.ca is False
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(sans) == [x509.UniformResourceIdentifier(IDENTITY)]
    assert _aki(leaf) == _ski(authority.issuing_certificate)
    assert _ski(leaf)
    assert 0 < leaf.serial_number < 2**159
    assert leaf.not_valid_before_utc == NOW
    assert leaf.not_valid_after_utc == NOW + timedelta(days=90)
    leaf.verify_directly_issued_by(authority.issuing_certificate)


def test_issue_certificate_caps_validity_at_issuing_ca(author_key: SigningKey) -> None:
    authority = create_authority("Short", now=NOW, issuing_days=30).authority
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW, days=90)[0]
    assert leaf.not_valid_after_utc == authority.issuing_certificate.not_valid_after_utc


def test_issue_certificate_omits_common_name_for_long_identity(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    identity = "https://reviews.example/u/" + "8" * 60
    leaf = issue_certificate(authority, author_key.public_key, identity, now=NOW)[0]
    assert leaf.subject.rfc4514_string() == "O=Reviews Example"


def test_issue_certificate_refuses_ed25519_key(authority: CertificateAuthority) -> None:
    with pytest.raises(
        AuthorityError, match="only ECDSA P-256 keys can be certified, found a ed25519"
    ):
        issue_certificate(authority, generate_key(KeyType.ED25519).public_key, IDENTITY, now=NOW)


def test_issue_certificate_refuses_when_issuing_ca_not_valid(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    with pytest.raises(AuthorityError, match="not at"):
        issue_certificate(
            authority, author_key.public_key, IDENTITY, now=AUTHORITY_CREATED - timedelta(days=1)
        )


@pytest.mark.parametrize("days", [0, -1, 826])
def test_issue_certificate_refuses_bad_validity(
    authority: CertificateAuthority, author_key: SigningKey, days: int
) -> None:
    with pytest.raises(AuthorityError, match="1 to 825 days"):
        issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW, days=days)


def test_issue_certificate_refuses_naive_time(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    with pytest.raises(AuthorityError, match="timezone-aware"):
        issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize("name", ["", " padded", "x" * 49, "tab\there"])
def test_create_authority_refuses_bad_name(name: str) -> None:
    with pytest.raises(AuthorityError, match="authority name"):
        create_authority(name, now=NOW)


def test_authority_directory_round_trip(tmp_path: Path, author_key: SigningKey) -> None:
    directory = tmp_path / "ca"
    new = create_authority("Reviews Example", now=AUTHORITY_CREATED)
    saved = save_authority(directory, new, passphrase=PASSPHRASE)
    leaf = issue_certificate(saved, author_key.public_key, IDENTITY, now=NOW)[0]
    revoke(saved, leaf, reason=x509.ReasonFlags.key_compromise, now=NOW)
    build_crl(saved, now=NOW)
    (directory / "root.key").unlink()
    loaded = load_authority(directory, passphrase=PASSPHRASE)
    assert loaded.name == "Reviews Example"
    assert loaded.root_certificate == new.authority.root_certificate
    assert loaded.issuing_certificate == new.authority.issuing_certificate
    assert loaded.issuing_key.public_key == new.authority.issuing_key.public_key
    assert loaded.state == saved.state
    assert loaded.state.crl_number == 1
    assert loaded.directory == directory


def test_save_authority_writes_encrypted_keys_mode_0600(tmp_path: Path) -> None:
    save_authority(tmp_path, create_authority("R", now=NOW), passphrase=PASSPHRASE)
    for name in ("root.key", "issuing.key"):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()


def test_save_authority_refuses_to_overwrite(tmp_path: Path) -> None:
    save_authority(tmp_path, create_authority("R", now=NOW), passphrase=None)
    with pytest.raises(AuthorityError, match="cannot save the authority"):
        save_authority(tmp_path, create_authority("R", now=NOW), passphrase=None)


def test_load_authority_refuses_wrong_passphrase(tmp_path: Path) -> None:
    save_authority(tmp_path, create_authority("R", now=NOW), passphrase=PASSPHRASE)
    with pytest.raises(AuthorityError, match="wrong passphrase"):
        load_authority(tmp_path, passphrase=b"wrong")


def test_load_authority_refuses_unknown_state_field(tmp_path: Path) -> None:
    save_authority(tmp_path, create_authority("R", now=NOW), passphrase=None)
    (tmp_path / "state.json").write_text('{"crlNumber": 0, "revocations": [], "extra": 1}')
    with pytest.raises(AuthorityError, match="state must hold exactly"):
        load_authority(tmp_path, passphrase=None)


def test_crls_are_signed_deterministically(authority: CertificateAuthority) -> None:
    """ECDSA RFC 6979, as provenance.keys signs: one CRL content is one CRL (so `make vectors`
    reproduces its certificate vectors byte for byte)."""
    first = build_crl(authority, now=NOW)
    authority.state.crl_number -= 1  # the same CRL number again
    assert build_crl(authority, now=NOW).signature == first.signature
