"""C2PA media: signing, verification onto the result model, the certificate profile, the CLI."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from provenance.errors import MediaError
from provenance.identity import (
    CertificateAuthority,
    TrustRoot,
    create_authority,
    export_trust_root,
    issue_certificate,
)
from provenance.keys import KeyType, SigningKey, generate_key, signing_key_from_cryptography
from provenance.verify.policy import AllOf, Identity, RequireClaim
from tests.unit.identity.factory import (
    NOW,
    CertSpec,
    HandMadeChain,
    hand_made_chain,
    make_certificate,
    p256_key,
)

pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

from cli.main import app
from provenance.media import (
    CONTENT_ASSERTION,
    ContentAssertionError,
    ManifestStoreError,
    MediaProfileError,
    MediaUnsupportedError,
    check_c2pa_profile,
    inspect_media,
    read_content_assertion,
    sign_media,
    signer_chain,
    verify_media,
)
from tests.media_samples import JPEG, tiny_png, tiny_wav

IDENTITY = "https://reviews.example/u/8841"
OK_CODES = [
    "parse.ok",
    "manifest.ok",
    "ingredients.ok",
    "log.ok",
    "certificate.ok",
    "revocation.ok",
    "policy.ok",
]
MEDIA = {"image/jpeg": JPEG, "image/png": tiny_png(), "audio/wav": tiny_wav()}


@pytest.fixture(scope="module")
def now() -> datetime:
    """The wall clock: c2pa checks certificates at it when no time stamp is present."""
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def authority(now: datetime) -> CertificateAuthority:
    return create_authority("Reviews Example", now=now - timedelta(days=1)).authority


@pytest.fixture(scope="module")
def trust(authority: CertificateAuthority) -> TrustRoot:
    return export_trust_root(authority, crl=None)


@pytest.fixture(scope="module")
def author_key() -> SigningKey:
    return generate_key(KeyType.P256)


@pytest.fixture(scope="module")
def chain(
    authority: CertificateAuthority, author_key: SigningKey, now: datetime
) -> list[x509.Certificate]:
    return issue_certificate(
        authority, author_key.public_key, IDENTITY, now=now - timedelta(minutes=1)
    )


def _sign(
    key: SigningKey, chain: list[x509.Certificate], now: datetime, mime: str = "image/png"
) -> bytes:
    return sign_media(
        MEDIA[mime],
        mime,
        key=key,
        chain=chain,
        at=now,
        author=IDENTITY,
        claims={"verifiedPurchase": True, "account": "8841"},
    )


def _codes(data: bytes, mime: str, trust: TrustRoot, now: datetime, **kwargs: bytes) -> list[str]:
    result = verify_media(data, mime, trust, Identity(IDENTITY), at=now, **kwargs)
    return [finding.code for finding in result.findings]


@pytest.mark.parametrize("mime", sorted(MEDIA))
def test_verify_accepts_own_signature_with_signer_and_claims(
    mime: str,
    author_key: SigningKey,
    chain: list[x509.Certificate],
    trust: TrustRoot,
    now: datetime,
) -> None:
    signed = _sign(author_key, chain, now, mime)
    policy = AllOf([Identity(IDENTITY), RequireClaim("verifiedPurchase", True)])
    result = verify_media(io.BytesIO(signed), mime, trust, policy, at=now)
    assert [f.code for f in result.findings] == OK_CODES
    assert result.verified
    assert result.signer is not None and result.signer.identities == (IDENTITY,)
    assert result.signer.issuer == "CN=Reviews Example Issuing CA,O=Reviews Example"
    assert result.signer.key_id == author_key.public_key.key_id
    assert dict(result.claims) == {"verifiedPurchase": True, "account": "8841"}
    assert result.statement is not None and result.statement.predicate.author is not None
    assert result.statement.predicate.author.id == IDENTITY
    assert result.certificate_checked_at == now and result.time_source == "verification"


def test_sidecar_leaves_asset_untouched_and_verifies_with_it(
    author_key: SigningKey, chain: list[x509.Certificate], trust: TrustRoot, now: datetime
) -> None:
    asset = MEDIA["image/png"]
    manifest = sign_media(asset, "image/png", key=author_key, chain=chain, at=now, sidecar=True)
    assert manifest[4:8] == b"jumb"
    assert _codes(asset, "image/png", trust, now, sidecar=manifest) == OK_CODES
    assert _codes(asset, "image/png", trust, now) == ["media.unsigned"]


def test_verify_reports_flipped_byte_as_data_hash_mismatch(
    author_key: SigningKey, chain: list[x509.Certificate], trust: TrustRoot, now: datetime
) -> None:
    signed = bytearray(_sign(author_key, chain, now))
    signed[-20] ^= 0x01
    result = verify_media(bytes(signed), "image/png", trust, Identity(IDENTITY), at=now)
    assert [f.code for f in result.findings] == [
        "parse.ok",
        "c2pa.assertion.dataHash.mismatch",
        "ingredients.ok",
        "log.ok",
        "certificate.ok",
        "revocation.ok",
        "policy.ok",
    ]
    assert not result.verified


def test_verify_reports_media_without_manifest_as_unsigned(trust: TrustRoot, now: datetime) -> None:
    result = verify_media(MEDIA["image/jpeg"], "image/jpeg", trust, Identity(IDENTITY), at=now)
    assert [(f.step, f.code, f.ok) for f in result.findings] == [("parse", "media.unsigned", False)]
    assert not result.verified and result.signer is None


def test_text_is_unsupported_for_verify_and_sign(
    author_key: SigningKey, chain: list[x509.Certificate], trust: TrustRoot, now: datetime
) -> None:
    assert _codes(b"hello", "text/plain", trust, now) == ["media.unsupported"]
    with pytest.raises(MediaUnsupportedError, match="text/plain"):
        sign_media(b"hello", "text/plain", key=author_key, chain=chain, at=now)


def test_verify_reports_unknown_signer_as_untrusted_credential(
    author_key: SigningKey, chain: list[x509.Certificate], now: datetime
) -> None:
    other = create_authority("Other", now=now - timedelta(days=1)).authority
    codes = _codes(
        _sign(author_key, chain, now), "image/png", export_trust_root(other, crl=None), now
    )
    assert codes == [
        "parse.ok",
        "manifest.ok",
        "ingredients.ok",
        "log.ok",
        "c2pa.signingCredential.untrusted",
    ]


def test_verify_applies_identity_policy_to_sans(
    author_key: SigningKey, chain: list[x509.Certificate], trust: TrustRoot, now: datetime
) -> None:
    signed = _sign(author_key, chain, now)
    result = verify_media(
        signed, "image/png", trust, Identity("https://reviews.example/u/1"), at=now
    )
    assert result.findings[-1].code == "policy.identity.mismatch"
    unconstrained = verify_media(
        signed, "image/png", trust, RequireClaim("verifiedPurchase"), at=now
    )
    assert unconstrained.findings[-1].code == "policy.identity.required"


def test_issuer_pin_matches_the_validated_chain_of_media(
    author_key: SigningKey,
    chain: list[x509.Certificate],
    trust: TrustRoot,
    now: datetime,
    authority: CertificateAuthority,
) -> None:
    signed = _sign(author_key, chain, now)
    pin = hashlib.sha256(authority.issuing_certificate.public_bytes(Encoding.DER)).hexdigest()
    pinned = verify_media(signed, "image/png", trust, Identity(IDENTITY, issuer=pin), at=now)
    assert pinned.verified, pinned.failures
    other = create_authority("Other", now=now - timedelta(days=1)).authority
    wrong = hashlib.sha256(other.issuing_certificate.public_bytes(Encoding.DER)).hexdigest()
    result = verify_media(signed, "image/png", trust, Identity(IDENTITY, issuer=wrong), at=now)
    assert [f.code for f in result.failures] == ["policy.issuer.mismatch"]


def test_verify_checks_certificate_at_the_given_time(
    author_key: SigningKey, chain: list[x509.Certificate], trust: TrustRoot, now: datetime
) -> None:
    later = now + timedelta(days=400)
    assert _codes(_sign(author_key, chain, now), "image/png", trust, later)[-1] == (
        "certificate.expired"
    )


def test_inspect_shows_content_assertion_unverified(
    author_key: SigningKey, chain: list[x509.Certificate], now: datetime
) -> None:
    summary = inspect_media(_sign(author_key, chain, now), "image/png")
    manifest = summary["manifests"][summary["activeManifest"]]
    assert summary["unverified"] is True
    assert read_content_assertion(manifest) == (
        IDENTITY,
        {"verifiedPurchase": True, "account": "8841"},
    )


def test_signer_chain_refuses_garbage() -> None:
    with pytest.raises(ManifestStoreError, match="manifest store"):
        signer_chain(b"\x00\x00\x00\x08free", "urn:c2pa:x")


def test_content_assertion_with_unknown_field_is_refused() -> None:
    manifest = {"assertions": [{"label": CONTENT_ASSERTION, "data": {"author": "a", "x": 1}}]}
    with pytest.raises(ContentAssertionError, match="fields"):
        read_content_assertion(manifest)


def test_sign_refuses_key_that_the_leaf_does_not_certify(
    chain: list[x509.Certificate], now: datetime
) -> None:
    with pytest.raises(MediaError, match="is not the key the leaf certificate certifies"):
        sign_media(JPEG, "image/jpeg", key=generate_key(), chain=chain, at=now)


def test_sign_refuses_certificate_without_eku_naming_it(now: datetime) -> None:
    hand = hand_made_chain()
    key = p256_key()
    leaf = _leaf(hand, key, CertSpec(eku=None))
    with pytest.raises(MediaProfileError, match="ExtendedKeyUsage extension is missing"):
        sign_media(
            JPEG,
            "image/jpeg",
            key=signing_key_from_cryptography(key),
            chain=[leaf, hand.issuing],
            at=NOW,
        )


def _leaf(hand: HandMadeChain, key: ec.EllipticCurvePrivateKey, spec: CertSpec) -> x509.Certificate:
    return make_certificate(spec, key, hand.issuing, hand.issuing_key)


SERVER_AUTH = [ExtendedKeyUsageOID.SERVER_AUTH]
NO_SIGNATURE = dict.fromkeys(CertSpec().key_usage or {}, False)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (CertSpec(eku=SERVER_AUTH), "ExtendedKeyUsage holds only serverAuth (1.3.6.1.5.5.7.3.1)"),
        (
            CertSpec(eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]),
            "holds anyExtendedKeyUsage, which C2PA forbids",
        ),
        (CertSpec(key_usage=None), "KeyUsage extension is missing"),
        (CertSpec(key_usage=NO_SIGNATURE | {"key_agreement": True}), "lacks digitalSignature"),
        (CertSpec(ca=True), "basicConstraints CA is true on the signing (end-entity)"),
        (CertSpec(not_after=NOW - timedelta(days=1)), "the signing certificate expired on"),
        (CertSpec(not_before=NOW + timedelta(days=1)), "is not valid before"),
    ],
)
def test_profile_check_names_the_broken_rule(spec: CertSpec, problem: str) -> None:
    hand = hand_made_chain()
    leaf = _leaf(hand, p256_key(), spec)
    with pytest.raises(MediaProfileError) as raised:
        check_c2pa_profile([leaf, hand.issuing], NOW)
    assert any(problem in item for item in raised.value.problems), raised.value.problems


def test_profile_check_names_missing_aki_and_wrong_curve() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
    )
    leaf = builder.sign(key, hashes.SHA256())
    with pytest.raises(MediaProfileError) as raised:
        check_c2pa_profile([leaf], NOW)
    assert "AuthorityKeyIdentifier extension is missing" in raised.value.problems
    assert any("secp384r1, not ECDSA P-256" in item for item in raised.value.problems)


def test_profile_check_accepts_issued_leaf(chain: list[x509.Certificate], now: datetime) -> None:
    check_c2pa_profile(chain, now)


def test_cli_signs_verifies_and_inspects_media(
    tmp_path: Path,
    author_key: SigningKey,
    chain: list[x509.Certificate],
    trust: TrustRoot,
) -> None:
    photo, key, certs, trust_file = (tmp_path / n for n in ("p.png", "a.key", "c.pem", "t.json"))
    photo.write_bytes(MEDIA["image/png"])
    key.write_bytes(author_key.to_pem())
    certs.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    trust_file.write_bytes(trust.to_json())
    runner = CliRunner()
    signed = tmp_path / "signed.png"
    args = ["media", "sign", photo, "--key", key, "--cert", certs, "--out", signed]
    result = runner.invoke(app, [str(a) for a in [*args, "--claim", "verifiedPurchase=true"]])
    assert result.exit_code == 0, result.stderr
    verify = ["media", "verify", str(signed), "--trust", str(trust_file), "--json"]
    result = runner.invoke(app, [*verify, "--identity", IDENTITY])
    assert result.exit_code == 0, result.stderr
    assert '"verifiedPurchase": true' in result.stdout
    result = runner.invoke(app, [*verify, "--identity", "https://reviews.example/u/1"])
    assert result.exit_code == 1
    result = runner.invoke(app, [*verify, "--identity", IDENTITY, "--require-fresh-crl"])
    assert result.exit_code == 1 and "certificate.crl.missing" in result.stdout
    sidecar = tmp_path / "p.c2pa"
    result = runner.invoke(app, [str(a) for a in [*args[:-1], sidecar, "--sidecar"]])
    assert result.exit_code == 0, result.stderr
    assert photo.read_bytes() == MEDIA["image/png"]
    sidecar_verify = [*verify[:2], str(photo), *verify[3:], "--sidecar-manifest", str(sidecar)]
    assert runner.invoke(app, [*sidecar_verify, "--identity", IDENTITY]).exit_code == 0
    result = runner.invoke(app, ["media", "inspect", str(signed), "--json"])
    assert result.exit_code == 0 and CONTENT_ASSERTION in result.stdout
    result = runner.invoke(app, ["media", "inspect", str(photo)])
    assert result.exit_code == 1 and "media.unsigned" in result.stderr


def test_cli_sign_refuses_certificate_without_eku(tmp_path: Path) -> None:
    hand = hand_made_chain()
    leaf_key = p256_key()
    leaf = _leaf(
        hand, leaf_key, CertSpec(eku=SERVER_AUTH, not_after=datetime.now(UTC) + timedelta(days=9))
    )
    key, certs, photo = (tmp_path / n for n in ("a.key", "c.pem", "p.jpg"))
    key.write_bytes(signing_key_from_cryptography(leaf_key).to_pem())
    certs.write_bytes(leaf.public_bytes(Encoding.PEM) + hand.issuing.public_bytes(Encoding.PEM))
    photo.write_bytes(JPEG)
    args = ["media", "sign", photo, "--key", key, "--cert", certs, "--out", tmp_path / "o.jpg"]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2
    assert "ExtendedKeyUsage holds only serverAuth" in " ".join(result.stderr.split())


def test_cli_sidecar_without_out_writes_file_dot_c2pa(
    tmp_path: Path,
    author_key: SigningKey,
    chain: list[x509.Certificate],
    trust: TrustRoot,
) -> None:
    photo, key, certs, trust_file = (tmp_path / n for n in ("p.png", "a.key", "c.pem", "t.json"))
    photo.write_bytes(MEDIA["image/png"])
    key.write_bytes(author_key.to_pem())
    certs.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    trust_file.write_bytes(trust.to_json())
    runner = CliRunner()
    args = ["media", "sign", str(photo), "--key", str(key), "--cert", str(certs), "--sidecar"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert photo.read_bytes() == MEDIA["image/png"]
    verify = ["media", "verify", str(photo), "--trust", str(trust_file), "--identity", IDENTITY]
    sidecar = ["--sidecar-manifest", str(tmp_path / "p.c2pa")]
    assert runner.invoke(app, [*verify, *sidecar]).exit_code == 0
    embedded = runner.invoke(app, args[:-1])
    assert embedded.exit_code == 2
    assert "--out" in embedded.stderr


def test_concurrent_verifications_share_one_c2pa_context(
    author_key: SigningKey, chain: list[x509.Certificate], trust: TrustRoot, now: datetime
) -> None:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from provenance.media.engine import _context  # noqa: PLC0415

    signed = _sign(author_key, chain, now)

    def verified(_: int) -> bool:
        return verify_media(signed, "image/png", trust, Identity(IDENTITY), at=now).verified

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(verified, range(40)))
    for signer_trust in (False, True):
        shared = _context(tuple(trust.roots), False, signer_trust)
        assert _context(trust.roots, False, signer_trust) is shared
