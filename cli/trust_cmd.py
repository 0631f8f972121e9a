"""`prov trust`: the trust store of many publishers, kept current with TUF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.common import Exit, JsonOption, fail, read_file, stderr
from cli.render import print_json
from cli.store_inputs import STORE_ENV, open_store, store_failure
from provenance import printable
from provenance.trust_repository import TUF_LIMITS
from provenance.trust_store import (
    UNKNOWN_PUBLISHER,
    PublisherRecord,
    TrustStoreError,
)

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
