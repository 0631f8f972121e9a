"""What `prov sign` tells the signer before signing: a certificate verifiers will refuse, and
progress on a terminal while a large input is read."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO

from cryptography import x509
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from provenance import TrustRoot, VerificationError
from provenance.identity import check_revocation, validate_chain
from provenance.present import long_date, plain_reason

PROGRESS_MIN_BYTES = 8 * 1024 * 1024
"""Inputs at least this large show a progress bar on a terminal."""


def certificate_warnings(
    chain: list[x509.Certificate], trust: TrustRoot | None, now: datetime
) -> list[str]:
    """Why verifiers will refuse a signature made now with ``chain`` (empty when they will not).

    The leaf's validity is checked always; with ``trust`` the chain and its revocation too.
    """
    if not chain:
        return []
    leaf = chain[0]
    if now > leaf.not_valid_after_utc:
        return [
            f"the certificate expired on {long_date(leaf.not_valid_after_utc)} (certificate.expired)"
        ]
    if now < leaf.not_valid_before_utc:
        when = long_date(leaf.not_valid_before_utc)
        return [f"the certificate is valid only from {when} (certificate.not_yet_valid)"]
    if trust is None:
        return []
    try:
        check_revocation(validate_chain(chain, trust, now), trust, signing_time=now, now=now)
    except VerificationError as exc:
        sentence = plain_reason(exc.code, trust=trust.name, message=exc.message)
        return [f"{sentence[0].lower()}{sentence[1:].rstrip('.')} ({exc.code})"]
    return []


class _Counting(io.RawIOBase):
    """A readable stream that reports every byte read."""

    def __init__(self, raw: BinaryIO, advance: Callable[[int], None]) -> None:
        self._raw = raw
        self._advance = advance

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._advance(len(data))
        return len(data)


@contextmanager
def reading_with_progress(
    stream: BinaryIO, size: int, console: Console, what: str
) -> Iterator[BinaryIO]:
    """``stream``, showing a transient progress bar on ``console`` while it is read, when the
    console is a terminal and ``size`` is at least :data:`PROGRESS_MIN_BYTES`."""
    if not console.is_terminal or size < PROGRESS_MIN_BYTES:
        yield stream
        return
    columns = (TextColumn(what), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(what, total=size)
        yield io.BufferedReader(_Counting(stream, lambda n: bar.advance(task, n)))
