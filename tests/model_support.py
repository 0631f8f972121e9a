"""Small models on disk, keys and trust roots for the model tests (tiny files, real keys)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.identity.trust import TrustRoot
from provenance.keys import KeyType, SigningKey, generate_key
from provenance.model import ModelSigner, Serialization, default_ignores, serialize_model
from provenance.model.verify import ModelVerification, ModelVerifier
from provenance.verify.policy import AllOf, Identity, Policy
from tests.factories import (
    NOW,
    CertifiedAuthor,
    authority_trust,
    certified_author,
    make_authority,
)

MODEL_IDENTITY = "https://models.example/alice"
KEY = generate_key(KeyType.P256)
TRUST = TrustRoot(name="models", pinned_keys=(("alice", KEY.public_key),))
AUTHORITY = make_authority("Models Example", created=NOW - timedelta(days=30))
AUTHOR = certified_author(AUTHORITY, MODEL_IDENTITY)
CERT_TRUST = authority_trust(AUTHORITY)
# The CLI and the reference implementation check certificates at the wall clock time.
LIVE_AUTHORITY = make_authority("Models Live", created=datetime.now(UTC) - timedelta(days=2))
LIVE_AUTHOR = certified_author(
    LIVE_AUTHORITY, MODEL_IDENTITY, issued=datetime.now(UTC) - timedelta(days=1)
)


def make_model(root: Path) -> Path:
    """A small model: weights in a subdirectory, a config, a tokenizer, and git files to ignore."""
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "part-0.bin").write_bytes(bytes(range(256)) * 40)
    (root / "weights" / "part-1.bin").write_bytes(b"\x01" * 3000)
    (root / "config.json").write_text('{"layers": 2}\n')
    (root / "tokenizer.txt").write_text("a b c\n")
    (root / "a.txt").write_text("sorts after a/ by components\n")
    (root / "a").mkdir()
    (root / "a" / "b").write_text("first by components\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".gitattributes").write_text("*.bin filter=lfs\n")
    return root


def sign_model(
    root: Path,
    key: SigningKey = KEY,
    chain: Sequence[x509.Certificate] = (),
    shard_size: int | None = None,
    signature_name: str = "model.sig",
) -> bytes:
    """Sign ``root`` with the library; return the signature file's bytes (also written there)."""
    serialization = Serialization(
        method="files" if shard_size is None else "shards",
        shard_size=shard_size,
        ignore_paths=default_ignores([signature_name]),
    )
    manifest = serialize_model(root, serialization)
    data = ModelSigner(key, chain).sign(manifest).to_bytes()
    (root / signature_name).write_bytes(data)
    return data


def verify_model(
    root: Path,
    data: bytes,
    trust: TrustRoot = TRUST,
    policy: Policy | None = None,
    ignore_unsigned_files: bool = False,
) -> ModelVerification:
    """Verify with the library at NOW; certificate trust roots get the author's identity."""
    if policy is None:
        policy = Identity(MODEL_IDENTITY) if trust.roots else AllOf([])
    return ModelVerifier(trust).verify(
        root,
        data,
        policy,
        at=NOW,
        ignore_paths=["model.sig"],
        ignore_unsigned_files=ignore_unsigned_files,
    )


def codes(outcome: ModelVerification) -> list[str]:
    """The finding codes, in order."""
    return [f.code for f in outcome.result.findings]


def pem_files(directory: Path, author: CertifiedAuthor = LIVE_AUTHOR) -> dict[str, Path]:
    """Write the live author's key, leaf, chain, intermediates and root PEMs (for the CLIs)."""
    paths = {
        "key": directory / "author.key",
        "leaf": directory / "leaf.pem",
        "chain": directory / "chain.pem",
        "intermediates": directory / "intermediates.pem",
        "root": directory / "root.pem",
    }
    authority = LIVE_AUTHORITY if author is LIVE_AUTHOR else AUTHORITY
    paths["key"].write_bytes(author.key.to_pem())
    paths["leaf"].write_bytes(author.chain[0].public_bytes(Encoding.PEM))
    paths["chain"].write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in author.chain))
    paths["intermediates"].write_bytes(
        b"".join(c.public_bytes(Encoding.PEM) for c in author.chain[1:])
    )
    paths["root"].write_bytes(authority.root_certificate.public_bytes(Encoding.PEM))
    return paths
