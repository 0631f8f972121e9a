"""`prov trust`: the trust store of many publishers, kept current with TUF."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from cli.common import Exit, JsonOption, fail, read_file, stderr
from cli.render import print_json
from provenance.display import printable
from provenance.identity.trust import TrustRoot
from provenance.trust_repository import TUF_LIMITS
from provenance.trust_store import (
    EXPIRED,
    NO_PUBLISHER,
    STORE_INVALID,
    UNKNOWN_PUBLISHER,
    PublisherRecord,
    StoreVerification,
    TrustStore,
    TrustStoreError,
    armored_publisher,
)
from provenance.verify.policy import Policy

STORE_ENV = "PROVENANCE_TRUST_STORE"

app = typer.Typer(
    help="Keep the trust roots of many publishers current (TUF).", no_args_is_help=True
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help=f"The trust store directory (default ${STORE_ENV}, else ~/.local/share/provenance/trust).",
    ),
]


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


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A local name for the publisher.")],
    url: Annotated[str, typer.Argument(help="The publisher's service base URL (https).")],
    root: Annotated[
        Path | None, typer.Option(help="The publisher's TUF root metadata, obtained out of band.")
    ] = None,
    root_sha256: Annotated[
        str | None,
        typer.Option(
            help="Instead of --root: the SHA-256 of its version 1 root (fetched, checked)."
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Add a publisher from its root metadata (no silent trust on first use), then update it."""
    if (root is None) == (root_sha256 is None):
        fail("give exactly one of --root ROOT_JSON or --root-sha256 HEX", Exit.USAGE)
    root_bytes = read_file(root, "root metadata", TUF_LIMITS.max_metadata_bytes) if root else None
    try:
        record = open_store(store).add(
            name, url, now=datetime.now(UTC), root=root_bytes, root_sha256=root_sha256
        )
    except TrustStoreError as exc:
        store_failure(exc)
    stderr.print(f"added {escape(_summary(record))}")


@app.command("update")
def update(
    name: Annotated[str | None, typer.Argument(help="The publisher (default: every one).")] = None,
    store: StoreOption = None,
) -> None:
    """Refresh publishers with TUF (rollback, freeze and signature checks); exit 1 if one fails."""
    trust_store = open_store(store)
    try:
        names = [name] if name else [record.name for record in trust_store.records()]
    except TrustStoreError as exc:
        store_failure(exc)
    failed: TrustStoreError | None = None
    for each in names:
        try:
            record = trust_store.update(each, now=datetime.now(UTC))
        except TrustStoreError as exc:
            stderr.print(f"[bold red]error:[/] {escape(f'[{exc.code}] {exc.message}')}")
            failed = failed or exc
            continue
        stderr.print(f"updated {escape(_summary(record))}")
    if failed is not None:
        code = Exit.UNREADABLE if failed.code == UNKNOWN_PUBLISHER else Exit.NOT_VERIFIED
        raise typer.Exit(int(code))


@app.command("list")
def list_publishers(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Show each publisher: URL, trust-root version, expiry, last update."""
    try:
        records = open_store(store).records()
    except TrustStoreError as exc:
        store_failure(exc)
    if as_json:
        print_json([_json(record) for record in records])
        return
    for record in records:
        typer.echo(
            "\t".join(
                printable(value)
                for value in (
                    record.name,
                    record.url,
                    f"version {record.trust_root_version}",
                    f"expires {record.expires.isoformat()}",
                    f"root {record.root_version}",
                    f"updated {record.updated.isoformat()}",
                )
            )
        )


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The publisher to forget.")],
    store: StoreOption = None,
) -> None:
    """Forget a publisher."""
    try:
        open_store(store).remove(name)
    except TrustStoreError as exc:
        store_failure(exc)
    stderr.print(f"removed {escape(name)}")


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


def _summary(record: PublisherRecord) -> str:
    return printable(
        f"{record.name} ({record.url}): trust root version {record.trust_root_version},"
        f" expires {record.expires.isoformat()}"
    )


def _json(record: PublisherRecord) -> dict[str, object]:
    return {
        "name": record.name,
        "url": record.url,
        "rootVersion": record.root_version,
        "trustRootVersion": record.trust_root_version,
        "expires": record.expires.isoformat(),
        "updated": record.updated.isoformat(),
    }


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
    found = armored_publisher(roots, document, policy, at=at)
    if found is not None:
        return found
    if expired:
        _report_expired(expired, fatal=not roots)
    if not roots:
        fail(f"[{NO_PUBLISHER}] the trust store holds no publisher", Exit.NOT_VERIFIED)
    return roots[0]


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
