"""The leaf profile satisfies the C2PA certificate profile (C2PA spec §14.5) in the C2PA SDK."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity import DOCUMENT_SIGNING, create_authority, issue_certificate
from provenance.keys import KeyType, generate_key
from tests.shared import shared_dir
from tests.unit.identity.factory import IDENTITY

c2pa = pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

MANIFEST = {
    "claim_generator_info": [{"name": "provenance-tests", "version": "0"}],
    "title": "photo.jpg",
    "assertions": [
        {
            "label": "c2pa.actions",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                    }
                ]
            },
        }
    ],
}


def test_c2pa_sdk_trusts_media_signed_with_issued_leaf() -> None:
    photo = (shared_dir("fixtures", "c2pa") / "no_manifest.jpg").read_bytes()
    now = datetime.now(UTC)  # the SDK checks validity against the wall clock
    authority = create_authority("Reviews Example", now=now).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=now)
    settings = {
        "trust": {
            "user_anchors": authority.root_certificate.public_bytes(Encoding.PEM).decode(),
            "trust_config": DOCUMENT_SIGNING.dotted_string + "\n",
        },
        "verify": {"verify_trust": True, "remote_manifest_fetch": False},
        "builder": {"thumbnail": {"enabled": False}},
    }
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    chain_pem = b"".join(certificate.public_bytes(Encoding.PEM) for certificate in chain)
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key.to_pem(), None)
    )
    signed = io.BytesIO()
    c2pa.Builder.from_json(MANIFEST, context=context).sign(
        signer, "image/jpeg", io.BytesIO(photo), signed
    )
    signed.seek(0)
    with c2pa.Reader("image/jpeg", signed, None, context) as reader:
        assert reader.get_validation_state() == "Trusted"
