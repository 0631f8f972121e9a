"""The trust root file: strict parsing and a faithful round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provenance.errors import TrustRootError
from provenance.identity import (
    MEDIA_TYPE,
    CertificateAuthority,
    TrustRoot,
    build_crl,
    export_trust_root,
    issue_certificate,
)
from provenance.keys import Ed25519SigningKey, KeyType, SigningKey, generate_key
from provenance.tlog.note import NoteSigner
from tests.unit.identity.factory import IDENTITY, NOW

LOG_KEY = NoteSigner("log.reviews.example", Ed25519SigningKey(bytes([1]) * 32)).verifier.key_string


def _full_trust_root(authority: CertificateAuthority) -> TrustRoot:
    exported = export_trust_root(
        authority,
        crl=build_crl(authority, now=NOW),
        log_keys=[LOG_KEY],
        crl_locations=["https://reviews.example/crl.pem"],
        require_log=True,
    )
    pinned = (
        ("submission-service", generate_key(KeyType.P256).public_key),
        ("checkpoint", generate_key(KeyType.ED25519).public_key),
    )
    return TrustRoot(
        name=exported.name,
        roots=exported.roots,
        intermediates=exported.intermediates,
        pinned_keys=pinned,
        log_keys=exported.log_keys,
        crls=exported.crls,
        crl_locations=exported.crl_locations,
        require_log=exported.require_log,
    )


def _document(authority: CertificateAuthority) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(_full_trust_root(authority).to_json())
    return parsed


def _refused(document: dict[str, Any] | bytes, expected: str) -> None:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(TrustRootError, match=expected):
        TrustRoot.from_json(data)


def test_trust_root_round_trips(authority: CertificateAuthority) -> None:
    original = _full_trust_root(authority)
    data = original.to_json()
    parsed = TrustRoot.from_json(data)
    assert parsed == original
    assert parsed.to_json() == data
    assert (
        json.loads(data)["mediaType"]
        == MEDIA_TYPE
        == "application/vnd.provenance.trust-root.v1+json"
    )


def test_trust_root_json_fields_are_camel_case(authority: CertificateAuthority) -> None:
    assert list(_document(authority)) == [
        "mediaType",
        "name",
        "certificateAuthorities",
        "intermediates",
        "publicKeys",
        "logKeys",
        "crls",
        "crlLocations",
        "requireLog",
    ]


def test_trust_root_minimal_document_parses() -> None:
    parsed = TrustRoot.from_json(json.dumps({"mediaType": MEDIA_TYPE, "name": "n"}).encode())
    assert parsed == TrustRoot(name="n")


def test_pinned_key_finds_key_by_id(authority: CertificateAuthority) -> None:
    trust = _full_trust_root(authority)
    name, key = trust.pinned_keys[1]
    assert trust.pinned_key(key.key_id) == (name, key)
    assert trust.pinned_key("00" * 32) is None


def test_trust_root_refuses_unknown_field(authority: CertificateAuthority) -> None:
    document = _document(authority) | {"fallbackRoots": []}
    _refused(document, r"unknown trust root fields \['fallbackRoots'\]")


def test_trust_root_refuses_unknown_media_type(authority: CertificateAuthority) -> None:
    document = _document(authority) | {"mediaType": "application/vnd.provenance.trust-root.v2+json"}
    _refused(document, "unsupported trust root media type")


def test_trust_root_refuses_duplicate_key() -> None:
    data = f'{{"mediaType": "{MEDIA_TYPE}", "name": "a", "name": "b"}}'.encode()
    _refused(data, "duplicate JSON key 'name'")


def test_trust_root_refuses_oversized_document() -> None:
    _refused(b" " * (1024 * 1024 + 1), "exceeds the cap")


def test_trust_root_refuses_leaf_as_root(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    with pytest.raises(TrustRootError, match="is not a CA certificate"):
        TrustRoot(name="n", roots=(leaf,))


def test_trust_root_refuses_duplicate_pinned_names() -> None:
    key = generate_key(KeyType.P256).public_key
    with pytest.raises(TrustRootError, match="pinned key names must be unique"):
        TrustRoot(name="n", pinned_keys=(("a", key), ("a", key)))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", 7, "name must be a str"),
        ("requireLog", "yes", "requireLog must be a bool"),
        ("logKeys", ["not-a-key"], "log key 'not-a-key' is unusable"),
        ("crlLocations", ["http://reviews.example/crl.pem"], "must be an https URL"),
        ("certificateAuthorities", ["garbage"], "exactly one PEM block"),
        ("publicKeys", [{"name": "a"}], "entries hold exactly"),
    ],
)
def test_trust_root_refuses_bad_field(
    authority: CertificateAuthority, field: str, value: object, expected: str
) -> None:
    _refused(_document(authority) | {field: value}, expected)


def test_trust_root_refuses_two_pem_blocks_in_one_entry(authority: CertificateAuthority) -> None:
    document = _document(authority)
    both = document["certificateAuthorities"][0] + document["intermediates"][0]
    _refused(document | {"certificateAuthorities": [both]}, "exactly one PEM block")
