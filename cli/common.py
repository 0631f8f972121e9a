"""Shared pieces of the `prov` commands: exit codes, console, reading inputs, passphrases."""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from enum import IntEnum
from getpass import getpass
from pathlib import Path
from typing import IO, Annotated, Any, BinaryIO, NoReturn, cast

import typer
from rich.console import Console
from rich.markup import escape

from cli.policy_options import PolicyOptions, build_policy, policy_document
from provenance import (
    KeyFormatError,
    PassphraseRequiredError,
    Policy,
    PolicyError,
    ProvenanceError,
    SigningKey,
    load_private_key,
)
from provenance.verify import POLICY_LIMITS

PASSPHRASE_ENV = "PROVENANCE_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)


@dataclass(frozen=True)
class CliLimits:
    """The caps of `prov`'s inputs and output.

    Attributes:
        max_input_file_bytes: A small input file (keys, certificates, trust roots, ...).
        max_bundle_file_bytes: A bundle file.
        max_sidecar_bytes: A C2PA sidecar manifest.
        max_unsigned_lines_shown: Lines of unsigned text quoted in a verdict.
        max_service_answer_bytes: An answer of the service read by ``prov log submit``.
        max_api_key_file_bytes: An API key file.
        max_fetch_bytes: One tlog-tiles response read by `prov log audit` or `monitor` (the
            largest entry bundle: 256 entries of up to 0xFFFF bytes, each with its length).
    """

    max_input_file_bytes: int = 16 * 1024 * 1024
    max_bundle_file_bytes: int = 1024 * 1024
    max_sidecar_bytes: int = 16 * 1024 * 1024
    max_unsigned_lines_shown: int = 20
    max_service_answer_bytes: int = 1024 * 1024
    max_api_key_file_bytes: int = 4096
    max_fetch_bytes: int = 256 * 0x10001


CLI_LIMITS = CliLimits()


PUBLIC_FILE_MODE = 0o644
"""Mode of public outputs (bundles, clear-signed text, certificates, CRLs, trust roots), less
the umask; private keys are created 0600 by :func:`provenance.keys.write_private_key`."""
STDOUT_PATH = "-"
_FILE_KINDS = (
    (stat.S_ISCHR, "character device"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)
_WRITTEN_IN_PLACE = frozenset({"character device", "FIFO"})


def _silence(stream: IO[Any]) -> None:
    """Point the descriptor of a stream whose reader went away at /dev/null, so that later writes
    and the interpreter's final flush succeed (no "Exception ignored", no exit 120)."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


class ReaderSafeStream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` (looked up at each write, as tests swap them) where a
    reader that went away (``prov verify ... | head -1``) is not an error: the output is dropped
    and the command keeps its exit code (a verdict stays 0 or 1)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    @property
    def _stream(self) -> IO[Any]:
        stream: IO[Any] = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        stream = self._stream
        try:
            stream.write(text)
        except BrokenPipeError:
            _silence(stream)
        return len(text)

    def flush(self) -> None:
        stream = self._stream
        try:
            stream.flush()
        except BrokenPipeError:
            _silence(stream)

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", None) or "utf-8")


stdout = ReaderSafeStream("stdout")
"""Standard output for results (JSON, keys): a closed pipe keeps the command's exit code."""
stderr = Console(file=cast(IO[str], ReaderSafeStream("stderr")), highlight=False, soft_wrap=True)


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


def read_file(path: Path, what: str, max_bytes: int = CLI_LIMITS.max_input_file_bytes) -> bytes:
    """Read a small regular input file, at most ``max_bytes``; exit 3 when it cannot be read."""
    with open_input(path, what) as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            fail(f"cannot read {what} {path}: {exc.strerror}")
    if len(data) > max_bytes:
        fail(f"{what} {path} is larger than {max_bytes} bytes")
    return data


def load_policy(options: PolicyOptions) -> Policy:
    """The policy the options ask for; exit 2 naming the status code (``policy.malformed``) when
    the library refuses it, 3 when the policy file cannot be read."""
    document = None
    if options.policy_file is not None:
        data = read_file(options.policy_file, "policy file", POLICY_LIMITS.max_document_bytes)
    try:
        if options.policy_file is not None:
            document = policy_document(options.policy_file, data)
        return build_policy(options, document)
    except PolicyError as exc:
        fail(f"{exc.code}: {exc.message}", Exit.USAGE)


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


def write_new_file(path: Path, data: bytes, what: str, mode: int = PUBLIC_FILE_MODE) -> None:
    """Write an output file; exit 3 when it cannot be written.

    - ``-`` writes to standard output.
    - An existing character device or FIFO (``/dev/null``, a named pipe) is written in place and
      stays what it is; a FIFO that no process reads is refused rather than waited for.
    - Any other existing path that is not a regular file (a directory, a block device, a socket, a
      symlink to anything but a regular file) is refused.
    - Else a new randomly named temporary file in the same directory, with ``mode`` less the
      umask (0644: outputs are public), is renamed over ``path``: the rename replaces ``path``
      itself, never a file a symlink points to.
    """
    if str(path) == STDOUT_PATH:
        _write_stdout(data, what)
        return
    kind = _special_kind(path)
    if kind in _WRITTEN_IN_PLACE:
        _write_in_place(path, data, what)
    elif kind is not None:
        fail(f"cannot write {what} to {path}: it is a {kind} (give a file path, or - for stdout)")
    else:
        _replace_file(path, data, what, mode)


def _special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (or a link to one), else None."""
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            target = _kind(path.stat().st_mode)
            return None if target is None else f"symbolic link to a {target}"
    except FileNotFoundError:  # absent, or a dangling link (the rename replaces the link)
        return None
    except OSError as exc:
        fail(f"cannot write to {path}: {exc.strerror}")
    return _kind(mode)


def _kind(mode: int) -> str | None:
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "special file"


def _write_in_place(path: Path, data: bytes, what: str) -> None:
    """Write to an existing device or FIFO without creating, truncating or replacing it."""
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        reason = "no process reads the FIFO" if exc.errno == errno.ENXIO else exc.strerror
        fail(f"cannot write {what} to {path}: {reason}")
    if _kind(os.fstat(descriptor).st_mode) not in _WRITTEN_IN_PLACE:
        os.close(descriptor)
        fail(f"cannot write {what} to {path}: it changed while being opened")
    os.set_blocking(descriptor, True)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        fail(f"cannot write {what} to {path}: {exc.strerror}")


def _write_stdout(data: bytes, what: str) -> None:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        _silence(sys.stdout)
    except OSError as exc:
        fail(f"cannot write {what} to standard output: {exc.strerror}")


def _replace_file(path: Path, data: bytes, what: str, mode: int) -> None:
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        fail(f"cannot write {what} {path}: {exc.strerror}")
    try:
        os.fchmod(descriptor, mode & ~_umask())
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {what} {path}: {exc.strerror}")


def _umask() -> int:
    current = os.umask(0o077)
    os.umask(current)
    return current


PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        help="Read the passphrase from this file (else $PROVENANCE_PASSPHRASE or a prompt)."
    ),
]
Unencrypted = Annotated[bool, typer.Option(help="Store new private keys without a passphrase.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]
