"""Shared pieces of the `prov` commands: exit codes, console, reading inputs, passphrases."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from enum import IntEnum
from getpass import getpass
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from provenance.errors import KeyFormatError, PassphraseRequiredError, ProvenanceError
from provenance.keys import SigningKey, load_private_key

PASSPHRASE_ENV = "PROVENANCE_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)
MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Exit(IntEnum):
    """The exit codes of `prov`."""

    VERIFIED = 0
    NOT_VERIFIED = 1
    USAGE = 2
    UNREADABLE = 3


def fail(message: str, code: Exit = Exit.UNREADABLE) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    stderr.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(int(code))


def open_input(path: Path, what: str) -> BinaryIO:
    """Open a regular file for reading, exiting with code 3 otherwise.

    Devices, FIFOs and directories are refused before anything is read (a FIFO is opened without
    blocking), so an input can never keep `prov` reading or waiting forever.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror}")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        fail(f"{what} {path} is not a regular file")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def read_file(path: Path, what: str, max_bytes: int = MAX_INPUT_FILE_BYTES) -> bytes:
    """Read a small regular input file, at most ``max_bytes``; exit 3 when it cannot be read."""
    with open_input(path, what) as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            fail(f"cannot read {what} {path}: {exc.strerror}")
    if len(data) > max_bytes:
        fail(f"{what} {path} is larger than {max_bytes} bytes")
    return data


def read_passphrase(passphrase_file: Path | None, *, confirm: bool) -> bytes | None:
    """The passphrase from --passphrase-file, else $PROVENANCE_PASSPHRASE, else a TTY prompt.

    Returns None when there is no source at all and no terminal to ask on.
    """
    if passphrase_file is not None:
        text = read_file(passphrase_file, "passphrase file").decode("utf-8", "replace")
        return _non_empty(text.rstrip("\r\n"))
    if env := os.environ.get(PASSPHRASE_ENV):
        return _non_empty(env)
    if not sys.stdin.isatty():
        return None
    first = getpass("Passphrase: ")
    if confirm and getpass("Repeat passphrase: ") != first:
        fail("the passphrases differ", Exit.USAGE)
    return _non_empty(first)


def new_key_passphrase(passphrase_file: Path | None, unencrypted: bool) -> bytes | None:
    """The passphrase to encrypt new private keys with; None only with ``--unencrypted``."""
    if unencrypted:
        return None
    passphrase = read_passphrase(passphrase_file, confirm=True)
    if passphrase is None:
        fail(
            "no passphrase: give --passphrase-file, set PROVENANCE_PASSPHRASE, run on a terminal, "
            "or pass --unencrypted",
            Exit.USAGE,
        )
    return passphrase


def _non_empty(text: str) -> bytes:
    if not text:
        fail("the passphrase is empty", Exit.USAGE)
    return text.encode("utf-8")


def load_signing_key(path: Path, passphrase_file: Path | None) -> SigningKey:
    """Load a private key, asking for its passphrase only when it is encrypted."""
    pem = read_file(path, "private key")
    try:
        return load_private_key(pem)
    except PassphraseRequiredError:
        pass
    except KeyFormatError as exc:
        fail(f"{path}: {exc}")
    passphrase = read_passphrase(passphrase_file, confirm=False)
    if passphrase is None:
        fail(
            f"{path} is encrypted: give --passphrase-file or set {PASSPHRASE_ENV}",
            Exit.USAGE,
        )
    try:
        return load_private_key(pem, passphrase)
    except ProvenanceError as exc:
        fail(f"{path}: {exc}")


def write_new_file(path: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``path`` atomically (a new randomly named temporary file, then a rename
    that replaces ``path`` itself, never a file a symlink points to); exit 3 on failure."""
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        fail(f"cannot write {what} {path}: {exc.strerror}")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {what} {path}: {exc.strerror}")


PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        help="Read the passphrase from this file (else $PROVENANCE_PASSPHRASE or a prompt)."
    ),
]
Unencrypted = Annotated[bool, typer.Option(help="Store new private keys without a passphrase.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
