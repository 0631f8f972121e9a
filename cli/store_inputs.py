"""The trust store as an input: where it is, its failures as exit codes, and the trust roots and
verification it gives `prov trust` and `prov verify` (discovery among its publishers).

Apart from ``inputs.py`` because the trust store brings TUF, which other commands do not need.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from cli.common import Exit, fail, stderr
from provenance import ArmorError, Policy, TrustRoot, find_signed_blocks, printable
from provenance.trust_store import (
    EXPIRED,
    NO_PUBLISHER,
    STORE_INVALID,
    UNKNOWN_PUBLISHER,
    StoreVerification,
    TrustStore,
    TrustStoreError,
    armored_publisher,
)

STORE_ENV = "PROVENANCE_TRUST_STORE"
PublisherOption = Annotated[
    str | None,
    typer.Option("--publisher", help="Verify with this trust-store publisher's trust root."),
]
TrustStoreOption = Annotated[
    Path | None, typer.Option("--trust-store", help=f"The trust store (default ${STORE_ENV}).")
]


def default_store() -> Path:
    """$PROVENANCE_TRUST_STORE, else $XDG_DATA_HOME/provenance/trust (~/.local/share/...)."""
    if env := os.environ.get(STORE_ENV):
        return Path(env)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "provenance" / "trust"


def open_store(directory: Path | None) -> TrustStore:
    """The trust store at ``directory`` or the default location."""
    return TrustStore(directory or default_store())


def store_failure(exc: TrustStoreError) -> NoReturn:
    """Exit with the store error's one line: usage errors 2, unknown or unreadable 3, refusals 1."""
    if exc.code == STORE_INVALID:
        code = Exit.USAGE
    elif exc.code == UNKNOWN_PUBLISHER:
        code = Exit.UNREADABLE
    else:
        code = Exit.NOT_VERIFIED
    fail(f"[{exc.code}] {exc.message}", code)


def require_publishers(store: Path | None, publisher: str | None) -> None:
    """Exit with a usage error when neither a publisher is named nor the store holds any."""
    if publisher is not None:
        return
    trust_store = open_store(store)
    try:
        empty = not trust_store.records()
    except TrustStoreError as exc:
        store_failure(exc)
    if empty:
        fail(
            f"give --key, --trust or --publisher: the trust store {trust_store.directory} holds no"
            " publisher (see `prov trust add`)",
            Exit.USAGE,
        )


def verify_with_store(
    store: Path | None,
    publisher: str | None,
    file: Path,
    bundle: bytes,
    policy: Policy,
    at: datetime,
) -> StoreVerification:
    """Verify a bundle with the store: the named publisher, else the one anchoring the chain."""
    try:
        with file.open("rb") as content:
            return open_store(store).verify(content, bundle, policy, at=at, publisher=publisher)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except TrustStoreError as exc:
        if exc.code in {EXPIRED, NO_PUBLISHER}:
            fail(f"[{exc.code}] {exc.message}", Exit.NOT_VERIFIED)
        store_failure(exc)


def store_trust_root(
    store: Path | None, publisher: str | None, document: bytes, policy: Policy, at: datetime
) -> tuple[str, TrustRoot]:
    """The publisher (its name in the store) and trust root for clear-signed text: --publisher's,
    else the one whose verdict stands among those that vouch for a signer (the first refusing,
    else the first: :func:`armored_publisher`), else the first whose trust root is current. The
    store's name, not the trust root's own ``name``, says who vouched.

    Discovery skips a publisher whose trust root expired (never falling back to it) and says so;
    when every publisher expired it fails with ``trust.publisher.none`` naming them (exit 1).
    """
    trust_store = open_store(store)
    try:
        if publisher is not None:
            return publisher, trust_store.trust_root(publisher, now=at)
        roots, expired = _current_roots(trust_store, at)
    except TrustStoreError as exc:
        store_failure(exc)
    _refuse_stale_voucher(trust_store, document, at)
    found = armored_publisher(roots, document, policy, at=at)
    if found is not None:
        return found
    if expired:
        _report_expired(expired, fatal=not roots)
    if not roots:
        fail(f"[{NO_PUBLISHER}] the trust store holds no publisher", Exit.NOT_VERIFIED)
    return roots[0]


def _refuse_stale_voucher(trust_store: TrustStore, document: bytes, at: datetime) -> None:
    """Exit 1 (``trust.expired``) when an expired publisher's anchors vouch for a block's signer:
    no other publisher may answer for its signers (:meth:`TrustStore.stale_voucher`)."""
    try:
        bundles = [block.bundle_bytes for block in find_signed_blocks(document.decode()).blocks]
    except (ArmorError, UnicodeDecodeError):
        return
    name = trust_store.stale_voucher(bundles, at)
    if name is not None:
        fail(
            f"[{EXPIRED}] publisher {printable(name)!r} vouches for this signer, but its trust"
            f" root expired; run `prov trust update {printable(name)}`",
            Exit.NOT_VERIFIED,
        )


def _current_roots(
    trust_store: TrustStore, at: datetime
) -> tuple[list[tuple[str, TrustRoot]], list[str]]:
    """The publishers whose trust root is current, and the names of those whose expired.

    Raises:
        TrustStoreError: The store or a publisher's files are unreadable (not skipped).
    """
    roots: list[tuple[str, TrustRoot]] = []
    expired: list[str] = []
    for record in trust_store.records():
        try:
            roots.append((record.name, trust_store.trust_root(record.name, now=at)))
        except TrustStoreError as exc:
            if exc.code != EXPIRED:
                raise
            expired.append(record.name)
    return roots, expired


def _report_expired(names: list[str], *, fatal: bool) -> None:
    """Say which publishers discovery skipped because their trust root expired; when they were
    all there is, fail with ``trust.publisher.none`` (as discovery of bundles does)."""
    listed = ", ".join(printable(name) for name in names)
    skipped = f"expired and skipped: {listed} (run `prov trust update`)"
    if fatal:
        fail(
            f"[{NO_PUBLISHER}] no publisher of the trust store is current; {skipped}",
            Exit.NOT_VERIFIED,
        )
    stderr.print(f"[yellow]note:[/] {escape(f'discovery {skipped}')}")
