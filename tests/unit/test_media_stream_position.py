"""A stream handed to ``verify_media`` at a position other than 0 is the whole asset from byte 0.

c2pa reads the asset from byte 0 whatever the stream's position, so the asset digest the result
reports (the statement's subject) must be of those same bytes, not of the part after the position.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest

from provenance.identity import create_authority, export_trust_root, issue_certificate
from provenance.keys import KeyType, generate_key
from provenance.verify.policy import Identity

pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

from provenance.media import sign_media, verify_media
from tests.media_samples import tiny_png

IDENTITY = "https://reviews.example/users/8841"


def test_a_stream_past_its_start_is_verified_and_digested_from_byte_zero() -> None:
    now = datetime.now(UTC)
    authority = create_authority("Reviews Example", now=now - timedelta(days=1)).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=now - timedelta(minutes=1))
    signed = sign_media(tiny_png(), "image/png", key=key, chain=chain, at=now, author=IDENTITY)
    trust = export_trust_root(authority, crl=None)
    stream = io.BytesIO(signed)
    stream.seek(100)
    from_stream = verify_media(stream, "image/png", trust, Identity(IDENTITY), at=now)
    from_bytes = verify_media(signed, "image/png", trust, Identity(IDENTITY), at=now)
    assert from_stream.verified and from_bytes.verified
    expected = hashlib.sha256(signed).hexdigest()
    assert from_stream.statement is not None and from_bytes.statement is not None
    assert from_stream.statement.subject_sha256 == expected
    assert from_bytes.statement.subject_sha256 == expected
