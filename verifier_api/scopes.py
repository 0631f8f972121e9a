"""API key scopes (kept apart from the tables so the CLI can name them without SQLModel)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """What an API key may do: ``verify`` (verify only), ``log`` (log bundles that authors signed
    with this publisher's certificates, and verify), ``sign`` (sign, log and verify), ``admin``
    (certificates, revocations and verify)."""

    VERIFY = "verify"
    LOG = "log"
    SIGN = "sign"
    ADMIN = "admin"
