"""A ``.c2pa`` sidecar the toolkit reads differently from c2pa cannot lend anyone's identity.

c2pa reads only a sidecar's first top-level box (checking its type, not its label) and ignores the
rest. Issue: the toolkit walked the caller's sidecar bytes to the box labelled ``c2pa``, which
could be a second box c2pa never read, holding a victim's genuine claim and signature, while c2pa
validated the attacker's own manifest in the first box (specs/media-v1.md §3 step 1, §5).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from provenance.identity import create_authority, export_trust_root
from provenance.identity.trust import TrustRoot
from provenance.verify.policy import Identity
from provenance.verify.result import VerificationResult
from tests.adversarial.media_jumbf import (
    attacker_png,
    impostor,
    only_manifest,
    second_store_forgery,
    store_leaf,
)
from tests.factories import certified_author
from tests.media_samples import tiny_png

pytest.importorskip("c2pa")

from provenance.media import sign_media, verify_media
from provenance.media.engine import read_with_c2pa
from provenance.media.store import ManifestStoreError, claim_signer
from provenance.media.verification import _check_reported_leaf

VICTIM = "https://reviews.example/u/1"
PNG = "image/png"
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Scene:
    trust: TrustRoot
    asset: bytes
    victim_store: bytes
    attacker_store: bytes


@pytest.fixture(scope="module")
def scene() -> Scene:
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=3)).authority
    victim = certified_author(authority, VICTIM, issued=NOW - timedelta(days=2))
    victim_store = sign_media(
        tiny_png(), PNG, key=victim.key, chain=victim.chain, at=NOW, sidecar=True
    )
    evil = impostor(victim.chain[0].serial_number, NOW)
    asset = attacker_png()
    attacker_store = sign_media(
        asset,
        PNG,
        key=evil.key,
        chain=evil.chain,
        at=NOW,
        sidecar=True,
        author=VICTIM,
        claims={"verifiedPurchase": True, "rating": 1},
    )
    return Scene(export_trust_root(authority, crl=None), asset, victim_store, attacker_store)


def _verify(scene: Scene, sidecar: bytes) -> VerificationResult:
    return verify_media(scene.asset, PNG, scene.trust, Identity(VICTIM), at=NOW, sidecar=sidecar)


def _failed(result: VerificationResult) -> list[tuple[str, str]]:
    return [(f.step, f.code) for f in result.findings if not f.ok]


def test_victims_claim_in_a_second_top_level_box_of_a_sidecar_is_malformed(scene: Scene) -> None:
    forged = second_store_forgery(scene.attacker_store, scene.victim_store)
    result = _verify(scene, forged)
    assert not result.verified
    assert result.signer is None
    assert _failed(result) == [("parse", "media.malformed")]


def test_sidecar_whose_first_box_is_not_labelled_c2pa_is_malformed(scene: Scene) -> None:
    top, _ = only_manifest(scene.attacker_store)
    assert _failed(_verify(scene, top.build(label="xxxx"))) == [("parse", "media.malformed")]


@pytest.mark.parametrize(
    "tail",
    [b"\x00\x00\x00\x08free", b"junk", b"\x00"],
    ids=["a second box", "bytes that are no box", "one byte"],
)
def test_bytes_after_the_sidecar_store_are_malformed(scene: Scene, tail: bytes) -> None:
    assert _failed(_verify(scene, scene.victim_store + tail)) == [("parse", "media.malformed")]


def test_the_forgery_past_the_sidecar_check_meets_the_store_c2pa_validated(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: without the sidecar shape check, the toolkit still checks the store c2pa
    returns: the attacker's own manifest, whose leaf the trust root does not anchor (the first
    pass's ``certificate.untrusted`` does not stand; c2pa's signer trust refuses it)."""
    monkeypatch.setattr("provenance.media.engine._check_sidecar", lambda sidecar: None)
    forged = second_store_forgery(scene.attacker_store, scene.victim_store)
    reading = read_with_c2pa(
        io.BytesIO(scene.asset), PNG, anchors=scene.trust.roots, sidecar=forged, signer_trust=False
    )
    signer = claim_signer(reading.store, reading.active_label)
    assert signer.chain[0] == store_leaf(scene.attacker_store) != store_leaf(scene.victim_store)
    result = _verify(scene, forged)
    assert not result.verified
    assert result.signer is None
    assert _failed(result) == [("certificate", "c2pa.signingCredential.untrusted")]


def test_a_well_formed_sidecar_is_checked_as_c2pa_returns_it_byte_for_byte(scene: Scene) -> None:
    reading = read_with_c2pa(
        io.BytesIO(tiny_png()), PNG, anchors=scene.trust.roots, sidecar=scene.victim_store
    )
    assert reading.store == scene.victim_store
    result = verify_media(
        tiny_png(), PNG, scene.trust, Identity(VICTIM), at=NOW, sidecar=scene.victim_store
    )
    assert result.verified, _failed(result)


def test_leaf_with_the_reported_serial_but_another_common_name_is_a_signer_mismatch(
    scene: Scene,
) -> None:
    """The toolkit's leaf is tied to c2pa's report by serial number and common name."""
    victim_leaf = store_leaf(scene.victim_store)
    reading = read_with_c2pa(
        io.BytesIO(tiny_png()), PNG, anchors=scene.trust.roots, sidecar=scene.victim_store
    )
    _check_reported_leaf(victim_leaf, reading.active_manifest)
    same_serial = store_leaf(scene.attacker_store)
    assert same_serial.serial_number == victim_leaf.serial_number
    with pytest.raises(ManifestStoreError) as caught:
        _check_reported_leaf(same_serial, reading.active_manifest)
    assert caught.value.code == "media.signature.signer.mismatch"
