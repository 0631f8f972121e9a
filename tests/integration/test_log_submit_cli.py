"""`prov log submit`: an author signs offline with the certificate the publisher issued, the
publisher's trust root requires the log, and submitting the bundle (or clear-signed text) to the
publisher's service makes it verify."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key, write_private_key
from tests.integration.trust.support import Publisher, prov, served_publisher
from verifier_api import crud
from verifier_api.scopes import Scope

TEXT = "The desk lamp is sturdy and bright.\n"


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    with served_publisher(tmp_path / "homes", "Reviews Example") as served:
        yield served


@pytest.fixture
def author(publisher: Publisher, tmp_path: Path) -> tuple[Path, Path, str]:
    """An author's key file, certificate chain file, and identity."""
    identity = "https://reviews-example.example/u/dana"
    key = generate_key(KeyType.P256)
    key_path = tmp_path / "dana.key"
    write_private_key(key_path, key, None)
    chain = publisher.service.authority.issue(
        create_csr(key, identity), identity, 30, datetime.now(UTC)
    )
    chain_path = tmp_path / "dana.pem"
    chain_path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    return key_path, chain_path, identity


def _api_key(publisher: Publisher, tmp_path: Path, scope: Scope) -> Path:
    _, key = crud.create_api_key(publisher.service.engine, "t", scope, now=datetime.now(UTC))
    path = tmp_path / f"{scope}.key"
    path.write_text(key + "\n")
    return path


def _trust(publisher: Publisher, tmp_path: Path) -> Path:
    path = tmp_path / "trust-root.json"
    path.write_bytes(httpx.get(f"{publisher.url}/.well-known/provenance/trust-root.json").content)
    return path


@pytest.mark.parametrize("armored", [False, True])
def test_an_offline_signature_verifies_against_the_published_trust_root_once_submitted(
    publisher: Publisher, author: tuple[Path, Path, str], tmp_path: Path, armored: bool
) -> None:
    key, chain, identity = author
    review = tmp_path / "review.txt"
    review.write_text(TEXT)
    form = ["--armor"] if armored else ["--text"]
    trust = _trust(publisher, tmp_path)
    code, _, err = prov("sign", review, "--key", key, "--cert", chain, *form, "--trust", trust)
    assert code == 0, err
    assert "require the log" in err and "prov log submit" in err
    signed = tmp_path / ("review.txt.asc" if armored else "review.txt")
    code, _, err = prov("verify", signed, "--trust", trust, "--identity", identity)
    assert code == 1, err
    assert "log.missing" in err
    submitted = signed if armored else tmp_path / "review.txt.prov.json"
    api_key = _api_key(publisher, tmp_path, Scope.LOG)
    submit = ("log", "submit", submitted, "--url", publisher.url, "--api-key-file", api_key)
    code, _, err = prov(*submit)
    assert code == 0, err
    assert "logged at index" in err
    code, _, err = prov("verify", signed, "--trust", trust, "--identity", identity)
    assert code == 0, err
    code, _, err = prov(*submit)
    assert code == 0, err
    assert "was logged already at index" in err


def test_a_refused_submission_exits_1_with_the_services_code(
    publisher: Publisher, author: tuple[Path, Path, str], tmp_path: Path
) -> None:
    key, chain, _ = author
    review = tmp_path / "review.txt"
    review.write_text(TEXT)
    assert prov("sign", review, "--key", key, "--cert", chain, "--text")[0] == 0
    bundle_path = tmp_path / "review.txt.prov.json"
    before = bundle_path.read_bytes()
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    now = datetime.now(UTC)
    publisher.service.authority.revoke(leaf, x509.ReasonFlags.key_compromise, None, now)
    api_key = _api_key(publisher, tmp_path, Scope.LOG)
    code, _, err = prov(
        "log", "submit", bundle_path, "--url", publisher.url, "--api-key-file", api_key
    )
    assert code == 1, err
    assert "[certificate.revoked]" in err
    assert bundle_path.read_bytes() == before


def test_a_verify_key_is_refused_and_plain_http_elsewhere_is_a_usage_error(
    publisher: Publisher, author: tuple[Path, Path, str], tmp_path: Path
) -> None:
    key, chain, _ = author
    review = tmp_path / "review.txt"
    review.write_text(TEXT)
    assert prov("sign", review, "--key", key, "--cert", chain, "--text")[0] == 0
    bundle_path = tmp_path / "review.txt.prov.json"
    verify_key = _api_key(publisher, tmp_path, Scope.VERIFY)
    code, _, err = prov(
        "log", "submit", bundle_path, "--url", publisher.url, "--api-key-file", verify_key
    )
    assert code == 3, err
    assert "[auth.forbidden]" in err
    code, _, err = prov(
        "log",
        "submit",
        bundle_path,
        "--url",
        "http://reviews.example",
        "--api-key-file",
        verify_key,
    )
    assert code == 2, err
