"""Signature malleability: one (key, message) has one envelope (issue 12 item 7, issue 13 item 1).
ECDSA's (r, n - s) twin verifies, as every DSSE tool signs with either S, but the envelope hash
counts it as its low-S form, so it is the same envelope with the same log proof (bundle-v1.md §6.2).
Non-canonical DER and the r || s form of a DER signature never verify, except the legacy r || s form
of a bundle whose log proves it was made before the cutover (bundle-v1.md §5.1)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.bundle import Bundle
from provenance.dsse import EnvelopeSignature
from provenance.identity.trust import TrustRoot
from provenance.keys import KeyType, P256SigningKey, generate_key
from provenance.tlog.entry import signer_binding
from tests.adversarial.attack import codes, logged_trust, transparency_log
from tests.factories import NOW, sign

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
KEY = generate_key(KeyType.P256)
TRUST = TrustRoot(name="pinned", pinned_keys=(("carol", KEY.public_key),))


def _values(sig: bytes) -> tuple[int, int]:
    if len(sig) == 64:
        return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    return decode_dss_signature(sig)


def _fixed(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _with_sig(bundle: Bundle, sig: bytes) -> Bundle:
    keyid = bundle.envelope.signatures[0].keyid
    envelope = replace(bundle.envelope, signatures=(EnvelopeSignature(sig, keyid),))
    return replace(bundle, envelope=envelope)


def _high_s_twin(sig: bytes) -> bytes:
    """(r, n - s) in the same encoding: mathematically valid ECDSA for the same message."""
    r, s = _values(sig)
    return _fixed(r, P256_ORDER - s) if len(sig) == 64 else encode_dss_signature(r, P256_ORDER - s)


def _legacy(bundle: Bundle, key: P256SigningKey, *, high_s: bool) -> Bundle:
    """The bundle as the toolkit made it before DER: r || s, with either S."""
    r, s = _values(key.sign_p1363(bundle.envelope.pae))
    return _with_sig(bundle, _fixed(r, P256_ORDER - s if high_s else s))


def _logged_legacy(*, high_s: bool) -> Bundle:
    """A legacy bundle logged (before the cutover) exactly as old signers logged it."""
    assert isinstance(KEY, P256SigningKey)
    bundle = _legacy(sign(KEY), KEY, high_s=high_s)
    signer_sha256, certificate_der = signer_binding((), KEY.public_key)
    entry = transparency_log().submit(bundle.envelope.sha256(), signer_sha256, certificate_der)
    return replace(bundle, tlog_entries=(entry,))


def test_the_high_s_twin_of_a_valid_signature_is_the_same_envelope() -> None:
    bundle = sign(KEY)
    twin = _with_sig(bundle, _high_s_twin(bundle.envelope.signatures[0].sig))
    assert codes(bundle, TRUST) == [] and codes(twin, TRUST) == []
    assert twin.envelope.sha256() == bundle.envelope.sha256()


def test_the_high_s_twin_of_a_logged_signature_carries_the_same_log_proof() -> None:
    bundle = sign(KEY, log=transparency_log())
    twin = _with_sig(bundle, _high_s_twin(bundle.envelope.signatures[0].sig))
    trust = logged_trust(TRUST)
    assert codes(twin, trust) == []
    assert twin.tlog_entries == bundle.tlog_entries


@pytest.mark.parametrize(
    "mangle",
    [
        lambda der: der + b"\x00",
        lambda der: bytes([0x30, der[1] + 1, 0x02, der[3] + 1, 0x00]) + der[4:],
        lambda der: bytes([0x30, 0x81, der[1]]) + der[2:],
    ],
    ids=["trailing-byte", "padded-r", "long-form-length"],
)
def test_a_non_canonical_der_encoding_of_a_valid_signature_is_refused(mangle: object) -> None:
    bundle = sign(KEY)
    assert callable(mangle)
    assert codes(_with_sig(bundle, mangle(bundle.envelope.signatures[0].sig)), TRUST) == [
        "signature.invalid"
    ]


def test_the_r_s_form_of_a_new_unlogged_signature_is_refused_as_legacy() -> None:
    bundle = sign(KEY)
    fixed = _fixed(*_values(bundle.envelope.signatures[0].sig))
    assert codes(_with_sig(bundle, fixed), TRUST) == ["signature.legacy"]


def test_the_r_s_form_of_a_new_logged_signature_does_not_match_its_log_entry() -> None:
    bundle = sign(KEY, log=transparency_log())
    trust = logged_trust(TRUST, require_log=False)
    assert codes(bundle, trust) == []
    fixed = _fixed(*_values(bundle.envelope.signatures[0].sig))
    assert codes(_with_sig(bundle, fixed), trust) == ["log.entry.mismatch"]


@pytest.mark.parametrize("high_s", [False, True], ids=["low-s", "high-s"])
def test_a_logged_legacy_signature_verifies_with_either_s(high_s: bool) -> None:
    assert codes(_logged_legacy(high_s=high_s), logged_trust(TRUST), at=NOW) == []


def test_the_twins_of_a_logged_legacy_signature_do_not_match_its_log_entry() -> None:
    legacy = _logged_legacy(high_s=True)
    sig = legacy.envelope.signatures[0].sig
    r, s = _values(sig)
    trust = logged_trust(TRUST)
    assert codes(_with_sig(legacy, _high_s_twin(sig)), trust) == ["log.entry.mismatch"]
    upgraded = encode_dss_signature(r, P256_ORDER - s)
    assert codes(_with_sig(legacy, upgraded), trust) == ["log.entry.mismatch"]


def test_a_legacy_signature_whose_log_entry_is_stripped_is_refused() -> None:
    stripped = replace(_logged_legacy(high_s=False), tlog_entries=())
    assert codes(stripped, logged_trust(TRUST, require_log=False)) == ["signature.legacy"]


def test_the_signature_hash_ignores_the_keyid_and_the_s_form() -> None:
    """What POST /v1/log/entries keys a submission on (finding A1): the envelope hash counts the
    unsigned keyid, the signature hash does not; both count S in its low form."""
    bundle = sign(KEY)
    sig, keyid = bundle.envelope.signatures[0].sig, bundle.envelope.signatures[0].keyid
    assert keyid, "the signer writes a keyid"
    bare = _with_sig(bundle, sig).envelope
    bare = replace(bare, signatures=(EnvelopeSignature(sig, ""),))
    twins = [bundle.envelope, bare, _with_sig(bundle, _high_s_twin(sig)).envelope]
    assert {e.signature_sha256() for e in twins} == {bare.sha256()}
    assert bundle.envelope.sha256() != bare.sha256()
    other = sign(KEY, b"Another text.\n").envelope
    assert other.signature_sha256() != bare.signature_sha256()
