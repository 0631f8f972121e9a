"""The `prov` command line."""

from __future__ import annotations

from typing import Annotated

import typer

import provenance
from cli import (
    ca_cmd,
    key_cmd,
    log_cmd,
    media_cmd,
    model_cmd,
    serve_cmd,
    serve_rotate_cmd,
    sign_cmd,
    trust_cmd,
    verify_cmd,
)
from cli.help_text import ProvGroup

app = typer.Typer(
    name="prov",
    help="Sign content with attested identities and verify it offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=ProvGroup,
)
app.add_typer(key_cmd.app, name="key")
app.add_typer(ca_cmd.app, name="ca")
app.add_typer(log_cmd.app, name="log")
app.add_typer(media_cmd.app, name="media")
app.add_typer(model_cmd.app, name="model")
app.command("sign")(sign_cmd.sign)
app.command("verify")(verify_cmd.verify)
app.command("inspect")(verify_cmd.inspect)
app.command("init")(serve_cmd.init)
app.add_typer(serve_cmd.app, name="serve")
app.add_typer(trust_cmd.app, name="trust")
serve_cmd.app.command("rotate-key")(serve_rotate_cmd.rotate_key)
serve_cmd.app.command("sign-tuf-root")(serve_rotate_cmd.sign_tuf_root)
serve_cmd.app.command("init-tuf")(serve_rotate_cmd.init_tuf)
ca_cmd.app.command("rotate-issuing")(serve_rotate_cmd.rotate_issuing)
ca_cmd.app.command("revoke-issuing")(serve_rotate_cmd.revoke_issuing)
log_cmd.app.command("rotate-key")(serve_rotate_cmd.rotate_log_key)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"prov {provenance.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Sign content with attested identities and verify it offline."""
