"""Media signed with `prov media sign` is Trusted by a stock c2pa-python Reader (issue 13.3).

The Reader's only non-default setting is the publisher's root as trust anchor: no trust_config,
so c2pa's default allowed EKUs apply (documentSigning alone is not among them).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from cli.main import app
from provenance.identity import DOCUMENT_SIGNING, create_authority, issue_certificate
from provenance.keys import KeyType, generate_key
from tests.media_samples import JPEG, tiny_png

c2pa = pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

IDENTITY = "https://reviews.example/u/8841"


@pytest.mark.parametrize(
    ("name", "data", "mime"), [("p.png", tiny_png(), "image/png"), ("p.jpg", JPEG, "image/jpeg")]
)
def test_media_signed_with_prov_is_trusted_by_a_default_c2pa_reader(
    tmp_path: Path, name: str, data: bytes, mime: str
) -> None:
    now = datetime.now(UTC)
    authority = create_authority("Reviews Example", now=now - timedelta(days=1)).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=now - timedelta(minutes=1))
    photo, key_file, certs, signed = (tmp_path / n for n in (name, "a.key", "c.pem", "s" + name))
    photo.write_bytes(data)
    key_file.write_bytes(key.to_pem())
    certs.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    args = ["media", "sign", photo, "--key", key_file, "--cert", certs, "--out", signed]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr
    anchor = authority.root_certificate.public_bytes(Encoding.PEM).decode("ascii")
    context = c2pa.Context(c2pa.Settings.from_dict({"trust": {"trust_anchors": anchor}}))
    with c2pa.Reader(mime, io.BytesIO(signed.read_bytes()), None, context) as reader:
        failures = (reader.get_validation_results() or {}).get("activeManifest", {})
        assert reader.get_validation_state() == "Trusted", failures.get("failure")


def test_issued_leaves_carry_document_signing_and_email_protection() -> None:
    now = datetime.now(UTC)
    authority = create_authority("Reviews Example", now=now).authority
    leaf = issue_certificate(authority, generate_key().public_key, IDENTITY, now=now)[0]
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(usage.value) == [DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert not usage.critical
