"""What signing and verifying commands read besides the content: certificate chains, trust roots.

Light on imports (no TUF, no log tooling): ``prov model`` and ``prov media`` use these too, and
every command pays for what its module imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cryptography import x509

from cli.common import Exit, fail, read_file
from provenance.display import printable
from provenance.errors import ProvenanceError
from provenance.identity.trust import TrustRoot
from provenance.keys import load_public_key
from provenance.tlog.note import NoteVerifier


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
