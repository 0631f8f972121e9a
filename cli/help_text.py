"""Help that reads like a command line: FILE, PATH, TEXT, N, never Python types (``<list[str]>``).

Typer shows each option's Python annotation as its type (``<bool>``, ``<str>``, ``<path>``).
:class:`ProvGroup` is the root command class: once the whole tree is built, it gives every
argument its upper-case name, every option a metavar by kind, and flags (``--json``, ``--help``)
none. Its subcommands are :class:`LazyCommands`: each is imported and built the first time it is
asked for (to run it, or to list it in help), and given plain metavars then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperArgument, TyperGroup

CommandLoader = Callable[[], Any]
"""Builds one subcommand (a click command or group) when it is first needed."""

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


def typer_command(name: str, source: Callable[[], Any]) -> CommandLoader:
    """A loader of the command ``name`` built as Typer builds it, from ``source()``: a Typer app
    (a group) or a command function."""

    def load() -> Any:
        target = source()
        holder = typer.Typer()
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name)
        else:
            holder.command(name)(target)
        return typer.main.get_group(holder).commands[name]

    return load


class LazyCommands(MutableMapping[str, Any]):
    """Subcommands by name, in a fixed order, each built by its loader on first access."""

    def __init__(self, loaders: Mapping[str, CommandLoader]) -> None:
        self._loaders = dict(loaders)
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            command = self._loaders[name]()
            plain_metavars(command)
            self._built[name] = command
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaders[name] = lambda: command
        self._built.pop(name, None)

    def __delitem__(self, name: str) -> None:
        del self._loaders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


class ProvGroup(TyperGroup):
    """The root group of ``prov``: plain metavars across the whole command tree; the commands of
    ``lazy_commands`` are added and built on first use."""

    lazy_commands: ClassVar[Mapping[str, CommandLoader]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_metavars(self)
        if self.lazy_commands:
            commands = LazyCommands(self.lazy_commands)
            commands.update(self.commands)
            self.commands = commands
