"""the first pass (c2pa's signer trust off) hides an ingredient signer that the trust root
does not anchor; its VERIFIED result is kept although the signer-trust read refuses.

specs/media-v1.md §3 Passes says the first-pass result stands only when "c2pa's signer trust
verification of the same path could then add nothing". But c2pa's ``verify_trust`` also checks
the signers of the *ingredient* manifests: with it on, c2pa reports
``ingredientDeltas[].validationDeltas.failure[] = signingCredential.untrusted`` for a parent
ingredient whose signer chains to no anchor of the verifier's trust root (when the signer of the
active manifest recorded that ingredient as trusted, as any C2PA tool using a broader trust list
than the verifier's does). With it off, the delta is not there, ``ingredients.ok`` passes, and
verify_media returns VERIFIED. The general pass (the code before the first pass) refuses with
``c2pa.signingCredential.untrusted`` in the ingredients step.

Expected: verify_media refuses like the general pass (``c2pa.signingCredential.untrusted``).
Actual: VERIFIED, from one read.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from provenance.identity import create_authority, export_trust_root
from provenance.verify.policy import Identity
from tests.factories import certified_author
from tests.media_samples import tiny_png

pytest.importorskip("c2pa")

from provenance.media import sign_media, verification, verify_media

PNG = "image/png"
VICTIM = "https://reviews.example/u/1"
NOW = datetime.now(UTC)


def _scene() -> tuple[bytes, object]:
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=3)).authority
    victim = certified_author(authority, VICTIM, issued=NOW - timedelta(days=2))
    trust = export_trust_root(authority, crl=None)
    # A CA the verifier's trust root does not anchor (the attacker's, or any other publisher's).
    other = create_authority("Other CA", now=NOW - timedelta(days=3)).authority
    stranger = certified_author(other, "https://other.example/u/2", issued=NOW - timedelta(days=2))
    other_trust = export_trust_root(other, crl=None)
    parent = sign_media(
        tiny_png(), PNG, key=stranger.key, chain=stranger.chain, at=NOW, trust=other_trust
    )
    # The victim's tool trusted both CAs when it signed (so it recorded the parent as trusted).
    both = replace(trust, roots=(*trust.roots, *other_trust.roots))
    child = sign_media(parent, PNG, key=victim.key, chain=victim.chain, at=NOW, trust=both)
    return child, trust


def _general(asset: bytes, trust: object, policy: Identity) -> object:
    """The general pass alone: c2pa's signer trust on."""
    stream = io.BytesIO(asset)
    run = verification._Run(NOW, verification._sha256(stream), PNG, True)
    run, findings = verification._verify(run, stream, trust, policy, None)  # type: ignore[arg-type]
    return verification._result(run, findings, policy)


def test_untrusted_ingredient_signer_is_refused_as_by_the_signer_trust_read() -> None:
    asset, trust = _scene()
    policy = Identity(VICTIM)
    general = _general(asset, trust, policy)
    # The signer-trust read refuses: the ingredient's signer is not anchored by the trust root.
    assert not general.verified  # type: ignore[attr-defined]
    assert "c2pa.signingCredential.untrusted" in [f.code for f in general.findings]  # type: ignore[attr-defined]
    result = verify_media(asset, PNG, trust, policy, at=NOW)  # type: ignore[arg-type]
    # Fails while the bug exists: the first-pass result (VERIFIED, ingredients.ok) is kept.
    assert not result.verified
    assert result == general
