"""Trust root vectors (``specs/identity-v1.md`` §3.1): trust root documents a verifier must load,
and documents it must refuse before verifying anything (``prov verify`` exits 3).

Keys derive from labels and the authority comes from
:func:`scripts.make_vectors.deterministic_pki` (family ``trust-root ``), so a run reproduces the
bytes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity.authority import create_authority
from provenance.identity.crl import build_crl
from provenance.identity.trust import export_trust_root
from provenance.keys import Ed25519SigningKey
from provenance.tlog.note import NoteSigner
from scripts.make_vectors import LABEL_PREFIX, VERIFY_AT, deterministic_pki, label_key

TRUST_ROOT_OUT = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "trust-root-v1"
ORIGIN = "log.trust-root.example"
Document = dict[str, Any]
ALGORITHM_2 = b"\x02"


def _log_key_with_plus() -> NoteSigner:
    """The first labelled log key (``trust-root log key <n>``) whose verifier key string holds
    ``+`` in its base64, so that only the C2SP split (at the first two ``+``) reads it."""
    for n in itertools.count(1):
        seed = hashlib.sha256(f"{LABEL_PREFIX} trust-root log key {n}".encode()).digest()
        signer = NoteSigner(ORIGIN, Ed25519SigningKey(seed))
        if "+" in signer.verifier.key_string.split("+", 2)[2]:
            return signer
    raise AssertionError("unreachable")


def _good() -> Document:
    with deterministic_pki("trust-root "):
        authority = create_authority("Trust Root Example", now=VERIFY_AT - timedelta(days=30))
    ca = authority.authority
    trust = export_trust_root(ca, crl=build_crl(ca, now=VERIFY_AT - timedelta(hours=1)))
    document: Document = json.loads(trust.to_json())
    pinned = label_key("trust-root-pinned", "p256").public_key.to_pem().decode()
    document["publicKeys"] = [{"name": "submission-service", "publicKey": pinned}]
    document["logKeys"] = [_log_key_with_plus().verifier.key_string]
    document["crlLocations"] = ["https://trust-root.example/v1/crl"]
    document["requireLog"] = True
    return document


def _log_key(change: Callable[[str, str, bytes], str]) -> Callable[[Document], None]:
    """Replace the log key by ``change(name, id_hex, raw)`` of its parts."""

    def edit(document: Document) -> None:
        name, id_hex, encoded = document["logKeys"][0].split("+", 2)
        document["logKeys"] = [change(name, id_hex, base64.b64decode(encoded))]

    return edit


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _key_string(name: str, key: bytes) -> str:
    """``<name>+<key id>+<base64(0x01 || key)>`` computed by tlog-v1 §3 for any ``name`` (the
    implementation refuses to write one for a name it refuses)."""
    raw = b"\x01" + key
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    return f"{name}+{key_id.hex()}+{_b64(raw)}"


def _not_ca(document: Document) -> None:
    """Add an intermediate whose basicConstraints is absent (a leaf, not a CA)."""
    key = label_key("trust-root-not-ca", "p256").to_cryptography()
    name = x509.Name.from_rfc4514_string("CN=Not A CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(VERIFY_AT - timedelta(days=1))
        .not_valid_after(VERIFY_AT + timedelta(days=1))
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    pem = certificate.public_bytes(Encoding.PEM).decode()
    document["intermediates"] = [*document["intermediates"], pem]


def trust_root_cases() -> list[dict[str, Any]]:
    """The trust root vectors, each a JSON object of ``identity-v1.md`` §3.1."""
    good = _good()
    name = good["logKeys"][0].split("+", 1)[0]
    edits: list[tuple[str, str, Callable[[Document], None] | str, bool]] = [
        ("01-usable", "every field, a log key whose base64 holds '+'", lambda d: None, True),
        (
            "02-log-key-name-information-separator",
            "a log key named with U+001F, which is not Unicode White_Space: usable",
            _log_key(lambda n, i, raw: _key_string(n + "\x1f", raw[1:])),
            True,
        ),
        (
            "03-log-key-id-mismatch",
            "a log key whose key id is not the key's",
            _log_key(lambda n, i, raw: f"{n}+{int(i, 16) ^ 1:08x}+{_b64(raw)}"),
            False,
        ),
        (
            "04-log-key-algorithm",
            "a log key whose algorithm byte is 0x02",
            _log_key(lambda n, i, raw: f"{n}+{i}+{_b64(ALGORITHM_2 + raw[1:])}"),
            False,
        ),
        (
            "05-log-key-short",
            "a log key of 31 bytes after the algorithm byte",
            _log_key(lambda n, i, raw: f"{n}+{i}+{_b64(raw[:-1])}"),
            False,
        ),
        (
            "06-log-key-base64-url-alphabet",
            "a log key in the URL-safe base64 alphabet ('-' for '+')",
            _log_key(lambda n, i, raw: f"{n}+{i}+{_b64(raw).replace('+', '-')}"),
            False,
        ),
        (
            "07-log-key-name-white-space",
            "a log key named with U+00A0 (Unicode White_Space)",
            _log_key(lambda n, i, raw: _key_string(n + "\xa0", raw[1:])),
            False,
        ),
        (
            "08-log-key-id-uppercase",
            "a log key whose key id is written in upper case",
            _log_key(lambda n, i, raw: f"{n}+{i.upper()}+{_b64(raw)}"),
            False,
        ),
        ("09-unknown-field", "a field trust roots do not define", lambda d: d.update(x=1), False),
        (
            "10-other-media-type",
            "a trust root of version 2",
            lambda d: d.update(mediaType="application/vnd.provenance.trust-root.v2+json"),
            False,
        ),
        ("11-intermediate-not-a-ca", "an intermediate without basicConstraints", _not_ca, False),
        (
            "12-duplicate-pinned-names",
            "two pinned keys with the same name",
            lambda d: d.update(publicKeys=d["publicKeys"] * 2),
            False,
        ),
        (
            "13-crl-location-http",
            "a CRL location that is not https",
            lambda d: d.update(crlLocations=["http://trust-root.example/v1/crl"]),
            False,
        ),
        (
            "14-duplicate-key",
            "the member name twice in the JSON text (strict JSON)",
            "duplicate",
            False,
        ),
    ]
    assert name == ORIGIN
    return [_case(good, *edit) for edit in edits]


def _case(
    good: Document, name: str, description: str, edit: Callable[[Document], None] | str, ok: bool
) -> dict[str, Any]:
    document = json.loads(json.dumps(good))
    if isinstance(edit, str):
        text = json.dumps(document, indent=2)
        text = text.replace('  "name": ', '  "name": "first",\n  "name": ', 1)
    else:
        edit(document)
        text = json.dumps(document, indent=2)
    return {
        "name": name,
        "description": description,
        "document": text + "\n",
        "expected": {"usable": ok},
    }


def write_trust_root_vectors() -> int:
    """Write ``specs/vectors/trust-root-v1``; returns the number of cases."""
    TRUST_ROOT_OUT.mkdir(parents=True, exist_ok=True)
    for old in TRUST_ROOT_OUT.glob("*.json"):
        old.unlink()
    cases = trust_root_cases()
    for case in cases:
        case_name = case.pop("name")
        (TRUST_ROOT_OUT / f"{case_name}.json").write_text(json.dumps(case, indent=2) + "\n")
    return len(cases)
