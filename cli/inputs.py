"""Inputs several `prov` commands read the same way: certificate chains, trust roots (from a file
or a key), claims, content and media types.

Light on imports (no TUF, no log tooling): ``prov model`` and ``prov media`` use these too, and
every command pays for what its module imports. Command modules (``cli/*_cmd.py``) never import
each other; what two of them read alike is read here (the trust store in ``store_inputs.py``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cryptography import x509

from cli.common import Exit, fail, read_file
from cli.policy_options import claim_value
from provenance import ProvenanceError, TrustRoot, load_public_key, printable, validate_claims
from provenance.tlog import NoteVerifier


def load_chain(path: Path) -> list[x509.Certificate]:
    """Read a PEM certificate chain, leaf first."""
    try:
        chain = x509.load_pem_x509_certificates(read_file(path, "certificate chain"))
    except ValueError as exc:
        fail(f"{path} is not a PEM certificate chain: {exc}")
    return chain


def load_trust(key: Path | None, trust: Path | None, log_keys: Sequence[str] = ()) -> TrustRoot:
    """The trust root from --trust, or one pinning the --key public key (exactly one is needed),
    with the --log-key verifier keys added to its log keys."""
    if (key is None) == (trust is None):
        fail("give exactly one of --key PUBLIC_KEY or --trust TRUST_ROOT", Exit.USAGE)
    try:
        if trust is not None:
            root = TrustRoot.from_json(read_file(trust, "trust root"))
        else:
            assert key is not None
            public_key = load_public_key(read_file(key, "public key"))
            root = TrustRoot(name=f"key {key.name}", pinned_keys=((key.name, public_key),))
    except ProvenanceError as exc:
        fail(f"{trust or key}: {exc}")
    return with_log_keys(root, log_keys)


def with_log_keys(root: TrustRoot, log_keys: Sequence[str]) -> TrustRoot:
    """``root`` that also trusts the verifier keys ``log_keys`` (each checked strictly)."""
    for log_key in log_keys:
        try:
            NoteVerifier.from_key_string(log_key)
        except ProvenanceError as exc:
            fail(f"--log-key {printable(log_key[:80])}: {exc}")
    added = tuple(k for k in dict.fromkeys(log_keys) if k not in root.log_keys)
    return replace(root, log_keys=root.log_keys + added) if added else root


def parse_claims(pairs: list[str]) -> dict[str, str | bool | int]:
    """Turn ``K=V`` options into claims, V typed as ``--require-claim`` reads it (JSON integer,
    ``true``, ``false`` or a quoted JSON string when it parses as one; else the text)."""
    claims: dict[str, str | bool | int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            fail(f"--claim {pair!r} must look like NAME=VALUE", Exit.USAGE)
        if name in claims:
            fail(f"--claim {name} given twice", Exit.USAGE)
        try:
            claims[name] = claim_value(value)
        except ValueError as exc:
            fail(f"--claim {name}: {exc}", Exit.USAGE)
    try:
        validate_claims(claims)
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    return claims


def guess_content_type(file: Path, text: bool) -> str:
    """The content type of a signed file: ``text/plain`` for text, else guessed from its name."""
    if text:
        return "text/plain"
    guessed, _ = mimetypes.guess_type(file.name)
    return guessed or "application/octet-stream"


def media_type(file: Path, given: str | None) -> str:
    """The MIME type to hand c2pa: --mime-type, else guessed, else the file's extension."""
    if given:
        return given
    guessed, _ = mimetypes.guess_type(file.name)
    return guessed or file.suffix.lstrip(".").lower()
