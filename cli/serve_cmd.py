"""`prov init` (a publisher home) and `prov serve` (the verifier service, API keys)."""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import Exit, PassphraseFile, fail, new_key_passphrase, stderr
from provenance import ProvenanceError
from verifier_api.scopes import Scope

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from verifier_api.settings import Settings

# The service's modules (FastAPI, SQLModel, pydantic-settings) load only inside these commands, so
# every other `prov` command starts without them.

app = typer.Typer(help="Serve a publisher home; manage its API keys.", no_args_is_help=False)
Home = Annotated[Path, typer.Option(help="The publisher home (made by `prov init`).")]


def init(
    home: Home,
    name: Annotated[str, typer.Option(help="The publisher's name (the authority's name).")],
    origin: Annotated[
        str | None, typer.Option(help="Log origin (default <host of base URL>/log).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="Public https base URL (default https://<name>.example)."),
    ] = None,
    crl_url: Annotated[
        str | None,
        typer.Option(
            help="CRL distribution point written into certificates (default <base URL>/v1/crl);"
            " a plain http URL serving GET /v1/crl reaches OpenSSL and most X.509 validators."
        ),
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create a publisher home: authority, signing-service key and chain, log key, database."""
    from verifier_api.publisher import home_settings, init_home  # noqa: PLC0415
    from verifier_api.service import open_database  # noqa: PLC0415
    from verifier_api.settings import Settings, SettingsError, check_secret  # noqa: PLC0415

    passphrase = new_key_passphrase(passphrase_file, unencrypted=False)
    assert passphrase is not None
    try:
        check_secret(passphrase.decode("utf-8", "replace"), "the passphrase")
        settings = home_settings(name, origin, base_url, crl_url)
        init_home(home, settings, passphrase, now=datetime.now(UTC))
        open_database(Settings(home=home, passphrase_file=None)).dispose()
    except SettingsError as exc:
        fail(str(exc), Exit.USAGE)
    except ProvenanceError as exc:
        fail(str(exc))
    stderr.print(f"[bold green]publisher home created[/] in {home}")
    stderr.print(f"  name {settings.name}, base URL {settings.base_url}, log {settings.origin}")
    root = home / "tuf" / "metadata" / "1.root.json"
    digest = hashlib.sha256(root.read_bytes()).hexdigest()
    stderr.print(f"  TUF root metadata {root} (sha256 {digest}): hand it to verifiers out of band")


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(help="The publisher home to serve.")] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the publisher home (keys' passphrase from PROVENANCE_PASSPHRASE[_FILE])."""
    if ctx.invoked_subcommand is not None:
        return
    if home is None:
        fail("give --home DIR (made by `prov init`)", Exit.USAGE)
    _check_can_serve(_settings(home))
    os.environ["PROVENANCE_HOME"] = str(home)
    _run_server(host, port, workers)


def _run_server(host: str, port: int, workers: int) -> None:
    """Run uvicorn; several workers on Linux listen in one ``SO_REUSEPORT`` group, so the kernel
    balances connections over them (``verifier_api.server``). Exit 3 when the port cannot be bound
    (as uvicorn does for one worker)."""
    import uvicorn  # noqa: PLC0415 (only the serving command needs the server)
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

    from verifier_api.server import PROTOCOL, REUSE_PORT, reuse_port_socket  # noqa: PLC0415

    options = {
        "factory": True,
        "http": PROTOCOL,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": "info",
        "access_log": True,
    }
    app_path = "verifier_api.app:app_from_environment"
    if workers < 2 or not REUSE_PORT:
        uvicorn.run(app_path, **options)  # type: ignore[arg-type]
        return
    config = uvicorn.Config(app_path, **options)  # type: ignore[arg-type]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = reuse_port_socket(family, host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    stderr.print(f"serving on http://{host}:{sock.getsockname()[1]} with {workers} workers")
    Multiprocess(config, sockets=[sock]).run()


def _settings(home: Path) -> Settings:
    """The service's settings for ``home``; exit 3 when it is not a publisher home, 2 when the
    environment's settings are invalid (one line each)."""
    from pydantic import ValidationError  # noqa: PLC0415

    from verifier_api.settings import HOME_SETTINGS_FILE, Settings  # noqa: PLC0415

    if not (home / HOME_SETTINGS_FILE).is_file():
        fail(f"{home} is not a publisher home (no {HOME_SETTINGS_FILE}); make one with prov init")
    try:
        return Settings(home=home)
    except ValidationError as exc:
        problems = (
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        fail(f"invalid settings: {'; '.join(problems)}", Exit.USAGE)
    except ValueError as exc:
        fail(f"invalid settings: {exc}", Exit.USAGE)


def _check_can_serve(settings: Settings) -> None:
    """Unlock the home's keys and open its database once before the server starts, so that a
    missing or wrong passphrase (exit 2, 3) or an unusable database (exit 3) is one line."""
    from verifier_api.publisher import load_publisher  # noqa: PLC0415
    from verifier_api.service import open_database  # noqa: PLC0415
    from verifier_api.settings import SettingsError  # noqa: PLC0415

    try:
        passphrase = settings.passphrase_bytes()
    except SettingsError as exc:
        fail(str(exc), Exit.USAGE)
    try:
        load_publisher(settings.home, passphrase)
        open_database(settings).dispose()
    except SettingsError as exc:
        fail(str(exc))


def _engine(home: Path) -> Engine:
    from verifier_api.service import open_database  # noqa: PLC0415
    from verifier_api.settings import SettingsError  # noqa: PLC0415

    try:
        return open_database(_settings(home))
    except SettingsError as exc:
        fail(str(exc))


@app.command("create-key")
def create_key(
    home: Home,
    scope: Annotated[Scope, typer.Option(help="verify, log, sign or admin.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
) -> None:
    """Create an API key and print it ONCE to stdout (only its hash is stored)."""
    from verifier_api import crud  # noqa: PLC0415

    engine = _engine(home)
    row, full_key = crud.create_api_key(engine, name, scope, now=datetime.now(UTC))
    engine.dispose()
    stderr.print(f"created key {row.id} ({row.scope}, {row.name!r}); it is shown only now:")
    typer.echo(full_key)


@app.command("revoke-key")
def revoke_key(
    home: Home,
    key_id: Annotated[str, typer.Argument(help="The key id (the part after prov_).")],
) -> None:
    """Revoke an API key by its id."""
    from verifier_api import crud  # noqa: PLC0415

    engine = _engine(home)
    revoked = crud.revoke_api_key(engine, key_id, now=datetime.now(UTC))
    engine.dispose()
    if not revoked:
        fail(f"no unrevoked key {key_id}", Exit.USAGE)
    stderr.print(f"revoked key {key_id}")


@app.command("list-keys")
def list_keys(home: Home) -> None:
    """List API keys (ids, names, scopes; never secrets)."""
    from verifier_api import crud  # noqa: PLC0415

    engine = _engine(home)
    for row in crud.list_api_keys(engine):
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
        typer.echo(f"{row.id}\t{row.scope}\t{row.name}\t{state}")
    engine.dispose()
