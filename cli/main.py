"""The `prov` command line.

Command groups are imported on first use (:class:`cli.help_text.LazyCommands`): a command pays
only for its own imports (``prov model sign`` needs neither TUF nor the log tooling), and the
start-up counts in every command's time. ``prov --help`` still lists every command.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

import typer

import provenance
from cli.help_text import CommandLoader, ProvGroup, typer_command


def _attribute(module: str, name: str) -> Callable[[], Any]:
    return lambda: getattr(importlib.import_module(f"cli.{module}"), name)


def _audit_commands(group: str) -> dict[str, Callable[..., Any]]:
    """``prov log audit`` and ``monitor`` (``cli/log_audit_cmd.py``), for the ``log`` group."""
    if group != "log":
        return {}
    from cli import log_audit_cmd  # noqa: PLC0415 (imported with its group)

    return {"audit": log_audit_cmd.audit_command, "monitor": log_audit_cmd.monitor_command}


@cache
def _with_rotation(group: str) -> typer.Typer:
    """The ``serve``, ``ca`` and ``log`` groups with their key-rotation commands (added once);
    ``log`` also gets its audit commands (``cli/log_audit_cmd.py``) before its rotation."""
    from cli import serve_rotate_cmd as rotate  # noqa: PLC0415 (imported with its group)

    app: typer.Typer = importlib.import_module(f"cli.{group}_cmd").app
    rotations: dict[str, dict[str, Callable[..., Any]]] = {
        "serve": {
            "rotate-key": rotate.rotate_key,
            "sign-tuf-root": rotate.sign_tuf_root,
            "init-tuf": rotate.init_tuf,
        },
        "ca": {"rotate-issuing": rotate.rotate_issuing, "revoke-issuing": rotate.revoke_issuing},
        "log": {"rotate-key": rotate.rotate_log_key},
    }
    for name, function in {**_audit_commands(group), **rotations[group]}.items():
        app.command(name)(function)
    return app


COMMANDS: dict[str, CommandLoader] = {
    name: typer_command(name, source)
    for name, source in (
        ("sign", _attribute("sign_cmd", "sign")),
        ("verify", _attribute("verify_cmd", "verify")),
        ("inspect", _attribute("verify_cmd", "inspect")),
        ("init", _attribute("serve_cmd", "init")),
        ("key", _attribute("key_cmd", "app")),
        ("ca", lambda: _with_rotation("ca")),
        ("log", lambda: _with_rotation("log")),
        ("media", _attribute("media_cmd", "app")),
        ("model", _attribute("model_cmd", "app")),
        ("serve", lambda: _with_rotation("serve")),
        ("trust", _attribute("trust_cmd", "app")),
    )
}
"""Every command of ``prov`` in help order (single commands first, then groups, as Typer lists)."""


class RootGroup(ProvGroup):
    """``prov`` itself: its subcommands are built on first use."""

    lazy_commands = COMMANDS


app = typer.Typer(
    name="prov",
    help="Sign content with attested identities and verify it offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=RootGroup,
)


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
