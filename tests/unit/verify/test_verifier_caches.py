"""The verifier's caches change no verdict: a verify on warm caches and one on empty caches give the
same findings, word for word, for good and tampered inputs, a CRL that changes, and a time past a
certificate's validity."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance import bundle as bundle_module
from provenance.identity import chain as chain_module
from provenance.identity import profile as profile_module
from provenance.identity import revocation as revocation_module
from provenance.identity.authority import CertificateAuthority
from provenance.identity.crl import build_crl, revoke
from provenance.identity.trust import TrustRoot
from provenance.keys import P256_ORDER, Ed25519SigningKey
from provenance.tlog import note as note_module
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from provenance.verify import verifier as verifier_module
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    CertifiedAuthor,
    authority_trust,
    certified_author,
    make_authority,
    sign,
)

ORIGIN = "example.org/log"
LOG_SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([7]) * 32))
Outcome = tuple[bool, tuple[tuple[str, str, bool, str], ...]]
Logged = tuple[tuple[CertificateAuthority, CertifiedAuthor], bytes, TrustRoot]


def _clear_caches() -> None:
    """Empty every cache of the verification path."""
    chain_module._VALIDATED._entries.clear()
    chain_module._STORES.clear()
    chain_module._VERIFIERS.clear()
    chain_module._SUBJECT_TEXTS.clear()
    chain_module._SELF_SIGNED.clear()
    chain_module._CA_KEYS_PASSED.clear()
    bundle_module._PARSED_CERTIFICATES._items.clear()
    revocation_module._crl_facts.cache_clear()
    revocation_module._signed_by.cache_clear()
    note_module._open_checkpoint.cache_clear()
    verifier_module._LEAF_KEYS.clear()
    verifier_module.time_text.cache_clear()
    revocation_module._PLANS.clear()
    profile_module._DER_MEMO.clear()
    profile_module._SPKI_SHA256.clear()


def _outcome(trust: TrustRoot, content: bytes, data: bytes, at_hours: float = 1) -> Outcome:
    result = Verifier(trust).check(
        content, data, Identity(IDENTITY), at=NOW + timedelta(hours=at_hours)
    )
    findings = tuple((f.step, f.code, f.ok, f.message) for f in result.findings)
    return result.verified, findings


def _cold_and_warm(trust: TrustRoot, content: bytes, data: bytes, at_hours: float = 1) -> Outcome:
    """The outcome on empty caches, asserted equal to the outcome twice more on warm ones."""
    _clear_caches()
    cold = _outcome(trust, content, data, at_hours)
    assert _outcome(trust, content, data, at_hours) == cold
    assert _outcome(trust, content, data, at_hours) == cold
    return cold


@pytest.fixture(scope="module")
def logged() -> Logged:
    authority = make_authority()
    author = certified_author(authority)
    log = TransparencyLog(MemoryStore(), LOG_SIGNER, ORIGIN, lambda: int(NOW.timestamp()))
    for filler in range(5):  # so that the bundle's inclusion proof holds hashes
        log.append_batch([log.new_entry(bytes([filler]) * 32, bytes(32))])
    data = sign(author.key, chain=author.chain, log=log).to_bytes()
    crl = build_crl(authority, now=NOW - timedelta(hours=1))
    trust = authority_trust(
        authority, crl=crl, log_keys=[LOG_SIGNER.verifier.key_string], require_log=True
    )
    return (authority, author), data, trust


def _edit(data: bytes, change: Callable[[dict[str, object]], None]) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document, indent=2).encode()


def _flip_b64(text: str, byte: int = 0) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[byte] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _entry(document: dict[str, object]) -> dict[str, object]:
    material = document["verificationMaterial"]
    assert isinstance(material, dict)
    entry: dict[str, object] = material["tlogEntries"][0]
    return entry


def _proof(document: dict[str, object]) -> dict[str, object]:
    proof = _entry(document)["inclusionProof"]
    assert isinstance(proof, dict)
    return proof


def _tamper_signature(document: dict[str, object]) -> None:
    envelope = document["dsseEnvelope"]
    assert isinstance(envelope, dict)
    envelope["signatures"][0]["sig"] = _flip_b64(envelope["signatures"][0]["sig"], 10)


def _tamper_proof_hash(document: dict[str, object]) -> None:
    proof = _proof(document)
    hashes = proof["hashes"]
    assert isinstance(hashes, list)
    hashes[0] = _flip_b64(hashes[0])


def _tamper_checkpoint(document: dict[str, object]) -> None:
    checkpoint = _proof(document)["checkpoint"]
    assert isinstance(checkpoint, dict)
    envelope = checkpoint["envelope"]
    assert isinstance(envelope, str)
    lines = envelope.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    checkpoint["envelope"] = "\n".join(lines)


def _tamper_time(document: dict[str, object]) -> None:
    entry = _entry(document)
    time = entry["integratedTime"]
    assert isinstance(time, int)
    entry["integratedTime"] = time + 1


def _tamper_certificate(document: dict[str, object]) -> None:
    material = document["verificationMaterial"]
    assert isinstance(material, dict)
    certificates = material["x509CertificateChain"]["certificates"]
    certificates[0]["rawBytes"] = _flip_b64(certificates[0]["rawBytes"], 200)


def test_a_good_bundle_verifies_alike_on_cold_and_warm_caches(logged: Logged) -> None:
    _, data, trust = logged
    verified, findings = _cold_and_warm(trust, REVIEW, data)
    assert verified, findings


def _certificates(document: dict[str, object]) -> list[dict[str, str]]:
    material = document["verificationMaterial"]
    assert isinstance(material, dict)
    certificates: list[dict[str, str]] = material["x509CertificateChain"]["certificates"]
    return certificates


def _repeat_leaf(document: dict[str, object]) -> None:
    certificates = _certificates(document)
    certificates.insert(1, dict(certificates[0]))


def _swap_certificates(document: dict[str, object]) -> None:
    certificates = _certificates(document)
    certificates.append(certificates.pop(0))


def _high_s(document: dict[str, object]) -> None:
    """The signature's ``(r, n - s)`` twin: the same envelope (bundle-v1.md §6.2)."""
    envelope = document["dsseEnvelope"]
    assert isinstance(envelope, dict)
    r, s = decode_dss_signature(base64.b64decode(envelope["signatures"][0]["sig"]))
    twin = encode_dss_signature(r, P256_ORDER - s)
    envelope["signatures"][0]["sig"] = base64.b64encode(twin).decode()


def test_a_high_s_twin_verifies_alike_on_cold_and_warm_caches(logged: Logged) -> None:
    _, data, trust = logged
    verified, findings = _cold_and_warm(trust, REVIEW, _edit(data, _high_s))
    assert verified, findings


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (_tamper_signature, "signature.invalid"),
        (_tamper_proof_hash, "log.proof.invalid"),
        (_tamper_checkpoint, "log.checkpoint.invalid"),
        (_tamper_time, "log.entry.mismatch"),
        (_tamper_certificate, None),
        (_repeat_leaf, "certificate.chain.extra"),
        (_swap_certificates, None),
    ],
)
def test_tampered_bundles_fail_alike_on_cold_and_warm_caches(
    logged: Logged, tamper: Callable[[dict[str, object]], None], code: str | None
) -> None:
    _, data, trust = logged
    _cold_and_warm(trust, REVIEW, data)  # warm the caches with the good bundle
    tampered = _edit(data, tamper)
    verified, findings = _cold_and_warm(trust, REVIEW, tampered)
    assert not verified
    failed = [finding for finding in findings if not finding[2]]
    assert failed
    if code is not None:
        assert failed[0][1] == code, failed
    # and warm from the good bundle, then the tampered one, equals cold
    _outcome(trust, REVIEW, data)
    assert _outcome(trust, REVIEW, tampered) == (verified, findings)


def test_tampered_content_fails_alike_on_cold_and_warm_caches(logged: Logged) -> None:
    _, data, trust = logged
    _cold_and_warm(trust, REVIEW, data)
    verified, findings = _cold_and_warm(trust, REVIEW.replace(b"Five", b"Four"), data)
    assert not verified
    assert [f[1] for f in findings if not f[2]] == ["digest.mismatch"]


def test_a_revocation_in_a_new_crl_counts_at_once_on_warm_caches(logged: Logged) -> None:
    (authority, author), data, trust = logged
    assert _cold_and_warm(trust, REVIEW, data)[0]
    revoke(
        authority,
        author.chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=NOW - timedelta(days=2),
    )
    revoked_trust = authority_trust(
        authority,
        crl=build_crl(authority, now=NOW - timedelta(minutes=30)),
        log_keys=[LOG_SIGNER.verifier.key_string],
        require_log=True,
    )
    warm = _outcome(revoked_trust, REVIEW, data)  # the old CRL's facts are cached
    assert not warm[0]
    assert [f[1] for f in warm[1] if not f[2]] == ["certificate.revoked"]
    assert _cold_and_warm(revoked_trust, REVIEW, data) == warm
    assert _outcome(trust, REVIEW, data)[0]  # the old trust root still says what it said


def test_a_time_past_the_certificate_fails_alike_on_cold_and_warm_caches() -> None:
    authority = make_authority()
    author = certified_author(authority, days=3)
    trust = authority_trust(authority, crl=build_crl(authority, now=NOW - timedelta(hours=1)))
    data = sign(author.key, chain=author.chain).to_bytes()  # unlogged: checked at `at`
    assert _cold_and_warm(trust, REVIEW, data)[0]
    expired = _outcome(trust, REVIEW, data, at_hours=24 * 5)  # the chain is cached by now
    assert [f[1] for f in expired[1] if not f[2]] == ["certificate.expired"]
    assert _cold_and_warm(trust, REVIEW, data, at_hours=24 * 5) == expired
    early = _cold_and_warm(trust, REVIEW, data, at_hours=-48)
    assert [f[1] for f in early[1] if not f[2]] == ["certificate.not_yet_valid"]


def test_a_stale_crl_is_noticed_alike_on_cold_and_warm_caches(logged: Logged) -> None:
    _, data, trust = logged
    _cold_and_warm(trust, REVIEW, data)
    late = _cold_and_warm(trust, REVIEW, data, at_hours=24 * 30)
    assert any(code == "certificate.crl.stale" for _, code, _, _ in late[1])


def test_a_crl_of_another_authority_changes_nothing_cached() -> None:
    authority, other = make_authority(), make_authority("Other Reviews")
    author = certified_author(authority)
    data = sign(author.key, chain=author.chain).to_bytes()
    foreign = authority_trust(authority, crl=build_crl(other, now=NOW - timedelta(hours=1)))
    own = authority_trust(authority, crl=build_crl(authority, now=NOW - timedelta(hours=1)))
    assert _cold_and_warm(own, REVIEW, data)[0]
    cold = _cold_and_warm(foreign, REVIEW, data)
    assert cold[0]  # no CRL of this CA: not revoked, reported unchecked by the revocation step
    assert _outcome(own, REVIEW, data)[0]
