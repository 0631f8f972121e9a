"""SQLModel tables of the service (the API's JSON shapes are in schemas.py).

Tables: ``api_keys`` (hashed secrets), ``issued_certificates`` (every certificate this CA issued),
``revocations``, ``crl_state`` (one row: the CRL number and the current CRL), ``rate_windows``
(per-key request counts of fixed windows), ``idempotency_keys`` (stored ``/v1/sign`` answers) and
``log_submissions`` (the log index of each signature submitted to ``POST /v1/log/entries``).
The log's ``tlog_*`` tables come from :mod:`provenance.tlog.sql`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from verifier_api.scopes import Scope

KEYID_CHARS = 128
"""The longest envelope ``keyid`` (``EnvelopeLimits.max_keyid_chars``)."""


def _utc_column(*, nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class ApiKeyBase(SQLModel):
    """What an operator chooses for a key."""

    name: str = Field(max_length=64)
    scope: Scope = Field(sa_type=String(16))


class ApiKey(ApiKeyBase, table=True):
    """A stored API key: id, scope and the SHA-256 of its 32-byte random secret."""

    __tablename__: ClassVar[Any] = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = _utc_column(nullable=False)
    revoked_at: datetime | None = _utc_column(nullable=True)


class IssuedCertificateBase(SQLModel):
    """A certificate this publisher's CA issued."""

    serial_hex: str = Field(primary_key=True, max_length=64)
    identity: str = Field(max_length=512)


class IssuedCertificate(IssuedCertificateBase, table=True):
    """The stored record of an issued certificate (PEM)."""

    __tablename__: ClassVar[Any] = "issued_certificates"

    pem: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime = _utc_column(nullable=False)
    not_after: datetime = _utc_column(nullable=False)


class RevocationBase(SQLModel):
    """A revocation as recorded."""

    serial_hex: str = Field(
        primary_key=True, max_length=64, foreign_key="issued_certificates.serial_hex"
    )
    reason: str = Field(max_length=32)


class RevocationRow(RevocationBase, table=True):
    """A stored revocation; the primary key makes a second revocation of one serial fail."""

    __tablename__: ClassVar[Any] = "revocations"

    revoked_at: datetime = _utc_column(nullable=False)
    invalidity_date: datetime | None = _utc_column(nullable=True)


class CrlState(SQLModel, table=True):
    """The one row (id 1) holding the last CRL number and that CRL (DER)."""

    __tablename__: ClassVar[Any] = "crl_state"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    crl_number: int = Field(sa_column=Column(BigInteger, nullable=False))
    crl_der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    next_update: datetime = _utc_column(nullable=False)


class RateWindow(SQLModel, table=True):
    """How many requests one key made in one fixed window (start in Unix seconds).

    No longer written: the rate limit counts in memory or in Redis (``verifier_api.ratelimit``);
    the table stays in the schema of migration 0001.
    """

    __tablename__: ClassVar[Any] = "rate_windows"

    key_id: str = Field(primary_key=True, max_length=32)
    window_start: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    count: int = Field(sa_column=Column(Integer, nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer of a ``/v1/sign`` request made with an ``Idempotency-Key``."""

    __tablename__: ClassVar[Any] = "idempotency_keys"

    key_id: str = Field(primary_key=True, max_length=32)
    idempotency_key: str = Field(primary_key=True, max_length=128)
    request_sha256: str = Field(max_length=64)
    response_json: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _utc_column(nullable=False)


class LogSubmission(SQLModel, table=True):
    """A signature submitted through ``POST /v1/log/entries``: its identity
    (``Envelope.signature_sha256``: no key id, low S) and signer digest (hex), the ``keyid`` of
    the envelope its leaf binds ("" for none; a later submission without it or with it gets the
    bundle with that one, so that it matches the entry) and its log index, None while the
    submitting request is appending it (a claim: the primary key makes a second submission of the
    same signature, under any key id, find the first)."""

    __tablename__: ClassVar[Any] = "log_submissions"

    signature_sha256: str = Field(primary_key=True, max_length=64)
    signer_sha256: str = Field(primary_key=True, max_length=64)
    keyid: str = Field(
        default="", sa_column=Column(String(KEYID_CHARS), nullable=False, server_default="")
    )
    log_index: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    claimed_at: datetime = _utc_column(nullable=False)
