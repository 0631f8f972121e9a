"""Help that reads like a command line: FILE, PATH, TEXT, N, never Python types (``<list[str]>``).

Typer shows each option's Python annotation as its type (``<bool>``, ``<str>``, ``<path>``).
:class:`ProvGroup` is the root command class: once the whole tree is built, it gives every
argument its upper-case name, every option a metavar by kind, and flags (``--json``, ``--help``)
none.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup

METAVARS = {"Path": "PATH", "str": "TEXT", "int": "N", "float": "NUMBER"}


def plain_metavars(command: Any) -> None:
    """Give the parameters of ``command`` and of its subcommands plain metavars."""
    help_option = command.get_help_option(typer.Context(command))
    for param in (*command.params, *([help_option] if help_option else [])):
        _set_metavar(param)
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)


def _set_metavar(param: Any) -> None:
    if isinstance(param, TyperArgument):
        param.metavar = param.metavar or (param.name or "value").upper()
        setattr(param, "display_type_rich", _no_type)  # noqa: B010 (the upper-case name says it all)
    elif getattr(param, "is_flag", False):
        param.metavar = ""
    elif param.metavar is None and not param.type_descriptor.is_choice:
        bare = param.bare_type().removeprefix("list[").removesuffix("]")
        param.metavar = METAVARS.get(bare, bare.upper())


def _no_type(ctx: Any) -> None:
    return None


class ProvGroup(TyperGroup):
    """The root group of ``prov``: plain metavars across the whole command tree."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_metavars(self)
