"""Media attacks: an author of the trusted authority forging another identity in the claim
signature's COSE headers, and a revoked or unlogged media signature that must fail as a bundle does.

c2pa checks certificates at the machine clock, so these tests sign and verify at the wall clock.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from provenance.identity import (
    CertificateAuthority,
    TrustRoot,
    build_crl,
    create_authority,
    export_trust_root,
    revoke,
)
from provenance.keys import KeyType, SigningKey, generate_key
from provenance.verify.policy import AllOf, Identity, RequireFreshCrl
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier
from tests.adversarial.media_forgery import (
    Signature,
    active_label,
    replace_in_asset,
    rewrite,
    self_made_time_stamp,
)
from tests.factories import CertifiedAuthor, certified_author, sign
from tests.media_samples import tiny_png

pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

from provenance.media import (
    ManifestStoreError,
    sign_media,
    signer_chain,
    verify_media,
)
from provenance.media.engine import read_with_c2pa
from provenance.media.store import claim_signer
from provenance.media.timestamp import token_certificates, usable_time_stamp

ATTACKER = "https://reviews.example/u/666"
VICTIM = "https://reviews.example/u/1"
ES256 = -7
X5CHAIN = 33


@dataclass(frozen=True)
class Setting:
    now: datetime
    authority: CertificateAuthority
    trust: TrustRoot
    attacker: CertifiedAuthor


@pytest.fixture(scope="module")
def setting() -> Setting:
    now = datetime.now(UTC)
    authority = create_authority("Reviews Example", now=now - timedelta(days=30)).authority
    attacker = certified_author(authority, ATTACKER, issued=now - timedelta(days=2))
    return Setting(now, authority, export_trust_root(authority, crl=None), attacker)


def _der(certificate: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding  # noqa: PLC0415

    return certificate.public_bytes(Encoding.DER)


def _victim_leaf(real: x509.Certificate, throwaway: SigningKey) -> x509.Certificate:
    """The attacker's leaf with the victim's SAN, same serial and issuer, signed by a throwaway."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(real.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
    )
    for extension in real.extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            value = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(VICTIM)])
        builder = builder.add_extension(value, critical=extension.critical)
    return builder.sign(throwaway.to_cryptography(), hashes.SHA256())


def _png_store(png: bytes) -> bytes:
    """The JUMBF manifest store of a PNG (its caBX chunk)."""
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack_from(">I", png, offset)
        if png[offset + 4 : offset + 8] == b"caBX":
            return png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raise AssertionError("no caBX chunk")


Headers = Callable[[list[bytes], list[bytes]], dict[str, Any]]


def _forge(setting: Setting, sidecar: bool, headers: Headers) -> tuple[bytes, bytes | None]:
    """Sign genuinely as the attacker, then rewrite the COSE headers and re-sign the claim."""
    attacker = setting.attacker
    signed = sign_media(
        tiny_png(),
        "image/png",
        key=attacker.key,
        chain=attacker.chain,
        at=setting.now,
        sidecar=sidecar,
        trust=setting.trust,
    )
    store = signed if sidecar else _png_store(signed)
    signature = Signature.of_store(store)
    real = [_der(cert) for cert in attacker.chain]
    forged = [_der(_victim_leaf(attacker.chain[0], generate_key(KeyType.P256))), real[1]]
    cose = rewrite(signature, attacker.key, **headers(real, forged))
    if sidecar:
        return tiny_png(), replace_in_asset(signed, signature.cose, cose)
    return replace_in_asset(signed, signature.cose, cose), None


def _verify(setting: Setting, asset_and_sidecar: tuple[bytes, bytes | None]) -> VerificationResult:
    asset, manifest = asset_and_sidecar
    return verify_media(
        asset, "image/png", setting.trust, Identity(VICTIM), at=setting.now, sidecar=manifest
    )


def _failures(result: VerificationResult) -> list[str]:
    failures = [finding.code for finding in result.failures]
    assert result.verified is not bool(failures)
    return failures


def _text_label_then_33(real: list[bytes], forged: list[bytes]) -> dict[str, Any]:
    return {"protected": [(1, ES256), ("x5chain", real), (X5CHAIN, forged)]}


def _33_then_text_label(real: list[bytes], forged: list[bytes]) -> dict[str, Any]:
    return {"protected": [(1, ES256), (X5CHAIN, forged), ("x5chain", real)]}


def _33_twice(real: list[bytes], forged: list[bytes]) -> dict[str, Any]:
    return {"protected": [(1, ES256), (X5CHAIN, real), (X5CHAIN, forged)]}


def _unprotected_33(real: list[bytes], forged: list[bytes]) -> dict[str, Any]:
    return {"protected": [(1, ES256), (X5CHAIN, real)], "unprotected": {X5CHAIN: forged}}


def _unprotected_text_label_only(real: list[bytes], forged: list[bytes]) -> dict[str, Any]:
    return {"protected": [(1, ES256)], "unprotected": {"x5chain": real}}


SIDECAR = pytest.mark.parametrize("sidecar", [False, True], ids=["embedded", "sidecar"])


@SIDECAR
def test_victim_leaf_under_label_33_after_the_real_chain_under_the_text_label_is_refused(
    setting: Setting, sidecar: bool
) -> None:
    """Issue 12.1: c2pa validates the text label's chain; label 33 named the victim."""
    result = _verify(setting, _forge(setting, sidecar, _text_label_then_33))
    assert _failures(result) == ["media.signature.x5chain.ambiguous"]
    assert result.signer is None


def test_victim_leaf_under_label_33_before_the_real_chain_is_refused(setting: Setting) -> None:
    """The other order: c2pa meets the self-made leaf first and finds it untrusted; the toolkit's
    own parser refuses the header before it looks at either chain."""
    asset, _ = _forge(setting, False, _33_then_text_label)
    result = _verify(setting, (asset, None))
    assert _failures(result) == ["c2pa.signingCredential.untrusted"]
    assert result.signer is None
    store = _png_store(asset)
    with pytest.raises(ManifestStoreError) as raised:
        signer_chain(store, active_label(store))
    assert raised.value.code == "media.signature.x5chain.ambiguous"


@SIDECAR
def test_repeated_x5chain_label_is_refused(setting: Setting, sidecar: bool) -> None:
    """c2pa refuses to read a header with a repeated label; the toolkit's own parser, which
    reads the store c2pa hands it, refuses it too, with its own code."""
    asset, manifest = _forge(setting, sidecar, _33_twice)
    result = _verify(setting, (asset, manifest))
    assert _failures(result) == ["media.malformed"]
    assert result.signer is None
    store = manifest if manifest is not None else _png_store(asset)
    with pytest.raises(ManifestStoreError) as raised:
        signer_chain(store, active_label(store))
    assert raised.value.code == "media.signature.header.duplicate"


def test_certificates_in_the_unprotected_header_next_to_the_protected_chain_are_refused(
    setting: Setting,
) -> None:
    result = _verify(setting, _forge(setting, False, _unprotected_33))
    assert _failures(result) == ["media.signature.x5chain.unprotected"]
    assert result.signer is None


def test_chain_only_in_the_unprotected_header_is_refused_though_c2pa_accepts_it(
    setting: Setting,
) -> None:
    forged = _forge(setting, False, _unprotected_text_label_only)
    result = verify_media(forged[0], "image/png", setting.trust, Identity(ATTACKER), at=setting.now)
    assert _failures(result) == ["media.signature.x5chain.unprotected"]


def test_genuine_rewrite_with_only_the_real_chain_still_verifies_as_the_attacker(
    setting: Setting,
) -> None:
    """The rewriting itself is sound: the same rewrite with honest headers verifies."""

    def honest(real: list[bytes], forged: list[bytes]) -> dict[str, Any]:
        return {"protected": [(1, ES256), (X5CHAIN, real)]}

    asset, _ = _forge(setting, False, honest)
    result = verify_media(asset, "image/png", setting.trust, Identity(ATTACKER), at=setting.now)
    assert _failures(result) == []
    assert result.signer is not None and result.signer.identities == (ATTACKER,)


def test_chain_with_a_signature_by_another_key_proves_nothing(setting: Setting) -> None:
    """The toolkit verifies the COSE signature over the claim with the leaf's key itself."""
    attacker = setting.attacker
    signed = sign_media(
        tiny_png(),
        "image/png",
        key=attacker.key,
        chain=attacker.chain,
        at=setting.now,
        sidecar=True,
    )
    signature = Signature.of_store(signed)
    real = [_der(cert) for cert in attacker.chain]
    cose = rewrite(signature, generate_key(KeyType.P256), protected=[(1, ES256), (X5CHAIN, real)])
    forged = replace_in_asset(signed, signature.cose, cose)
    with pytest.raises(ManifestStoreError) as raised:
        signer_chain(forged, active_label(forged))
    assert raised.value.code == "media.signature.invalid"
    result = verify_media(
        tiny_png(), "image/png", setting.trust, Identity(ATTACKER), at=setting.now, sidecar=forged
    )
    assert "c2pa.claimSignature.mismatch" in _failures(result)
    assert result.signer is None


def _der_element(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size) + content


def _token_carrying(*certificates: x509.Certificate) -> bytes:
    """A ContentInfo/SignedData shaped like an RFC 3161 token, carrying ``certificates``."""
    signed_data_oid = bytes.fromhex("06092a864886f70d010702")
    tst_info_oid = bytes.fromhex("060b2a864886f70d0109100104")
    signed_data = _der_element(
        0x30,
        bytes.fromhex("020103")
        + _der_element(0x31, b"")
        + _der_element(0x30, tst_info_oid)
        + _der_element(0xA0, b"".join(_der(cert) for cert in certificates))
        + _der_element(0x31, b""),
    )
    return _der_element(0x30, signed_data_oid + _der_element(0xA0, signed_data))


def test_time_stamp_made_with_an_author_certificate_does_not_set_the_check_time(
    setting: Setting,
) -> None:
    """c2pa lets an emailProtection certificate sign time stamps; the toolkit does not, so an
    author cannot stamp its own signature with a time before its key was revoked."""
    attacker = setting.attacker
    own = {"sigTst": {"tstTokens": [{"val": _token_carrying(*attacker.chain)}]}}
    assert token_certificates(own["sigTst"]["tstTokens"][0]["val"]) == attacker.chain
    assert not usable_time_stamp(own)
    assert not usable_time_stamp({"sigTst": {"tstTokens": [{"val": b"\x30\x03junk"}]}})
    assert not usable_time_stamp({})


def _revoked(setting: Setting) -> tuple[CertifiedAuthor, TrustRoot]:
    """An author whose key was reported compromised an hour ago, and the trust root with the CRL."""
    now = setting.now
    authority = create_authority("Reviews Example", now=now - timedelta(days=30)).authority
    author = certified_author(authority, VICTIM, issued=now - timedelta(days=2))
    revoke(
        authority,
        author.chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=now - timedelta(minutes=30),
        invalidity_date=now - timedelta(hours=1),
    )
    return author, export_trust_root(
        authority, crl=build_crl(authority, now=now - timedelta(minutes=5))
    )


def test_media_from_a_compromised_key_fails_revoked_like_a_text_bundle(setting: Setting) -> None:
    author, trust = _revoked(setting)
    bundle = sign(author.key, chain=author.chain)
    text = Verifier(trust).check(
        b"The desk lamp is sturdy and bright.\nFive stars.\n",
        bundle,
        Identity(VICTIM),
        at=setting.now,
    )
    assert [f.code for f in text.failures] == ["certificate.revoked"]
    signed = sign_media(tiny_png(), "image/png", key=author.key, chain=author.chain, at=setting.now)
    result = verify_media(signed, "image/png", trust, Identity(VICTIM), at=setting.now)
    assert _failures(result) == ["certificate.revoked"]


def test_unlogged_media_fails_log_missing_when_the_trust_root_requires_the_log(
    setting: Setting,
) -> None:
    attacker = setting.attacker
    signed = sign_media(
        tiny_png(), "image/png", key=attacker.key, chain=attacker.chain, at=setting.now
    )
    trust = replace(setting.trust, require_log=True)
    result = verify_media(signed, "image/png", trust, Identity(ATTACKER), at=setting.now)
    assert _failures(result) == ["log.missing"]
    assert not result.verified


def test_stale_or_missing_crl_is_reported_for_media_as_for_bundles(setting: Setting) -> None:
    attacker = setting.attacker
    signed = sign_media(
        tiny_png(), "image/png", key=attacker.key, chain=attacker.chain, at=setting.now
    )
    stale = build_crl(setting.authority, now=setting.now - timedelta(days=20))
    trusts = {
        "certificate.crl.stale": replace(setting.trust, crls=(stale,)),
        "certificate.crl.missing": replace(
            setting.trust, crl_locations=("https://reviews.example/v1/crl",)
        ),
    }
    for code, trust in trusts.items():
        result = verify_media(signed, "image/png", trust, Identity(ATTACKER), at=setting.now)
        assert result.verified, result.failures
        advisories = [
            (f.step, f.code, f.ok) for f in result.findings if f.code.startswith("certificate.crl")
        ]
        assert advisories == [("revocation", code, True)]
        assert any(warning.startswith(code) for warning in result.warnings)
        strict = AllOf([Identity(ATTACKER), RequireFreshCrl()])
        result = verify_media(signed, "image/png", trust, strict, at=setting.now)
        assert _failures(result) == [code]


def test_author_made_time_stamp_backdating_a_compromised_key_does_not_pass(
    setting: Setting,
) -> None:
    """The thief of a key stamps its own signature with a time before the compromise, signing the
    RFC 3161 token with the author certificate itself. c2pa 0.91 reports that stamp as
    ``timeStamp.trusted`` (it accepts emailProtection for time-stamp signers); here it also happens
    to flag the credential, so the media fails anyway, but the toolkit's own rule refuses the
    stamp whatever c2pa says."""
    author, trust = _revoked(setting)
    signed = sign_media(
        tiny_png(), "image/png", key=author.key, chain=author.chain, at=setting.now, sidecar=True
    )
    signature = Signature.of_store(signed)
    backdated = setting.now - timedelta(hours=3)

    def stamp(protected: bytes, sig: bytes) -> dict[str, Any]:
        return self_made_time_stamp(author.key, author.chain, protected, sig, backdated)

    forged = replace_in_asset(signed, signature.cose, rewrite(signature, author.key, stamp=stamp))
    result = verify_media(
        tiny_png(), "image/png", trust, Identity(VICTIM), at=setting.now, sidecar=forged
    )
    assert not result.verified and result.signer is None
    reading = read_with_c2pa(
        io.BytesIO(tiny_png()), "image/png", anchors=trust.roots, sidecar=forged
    )
    successes = reading.results["activeManifest"]["success"]
    assert "timeStamp.trusted" in [item["code"] for item in successes]
    signer = claim_signer(forged, active_label(forged))
    assert not usable_time_stamp(signer.unprotected)


def test_trust_root_that_exempts_media_from_the_log_says_so_in_the_log_finding(
    setting: Setting,
) -> None:
    attacker = setting.attacker
    signed = sign_media(
        tiny_png(), "image/png", key=attacker.key, chain=attacker.chain, at=setting.now
    )
    trust = replace(setting.trust, require_log=True, require_log_for_media=False)
    result = verify_media(signed, "image/png", trust, Identity(ATTACKER), at=setting.now)
    assert result.verified, _failures(result)
    log = next(f for f in result.findings if f.step == "log")
    assert (log.code, log.ok) == ("log.ok", True)
    assert "does not require media to be logged" in log.message
