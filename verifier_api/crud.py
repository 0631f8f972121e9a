"""Storage functions over the service's tables; free of FastAPI so the CLI and tests use them too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from sqlmodel import select as select_rows

from provenance.identity import RevocationEntry
from verifier_api.models import (
    ApiKey,
    CrlState,
    IdempotencyRecord,
    IssuedCertificate,
    LogSubmission,
    RevocationRow,
)
from verifier_api.scopes import Scope
from verifier_api.service_errors import ServiceError

API_KEY_PREFIX = "prov"
KEY_ID_BYTES = 6
SECRET_BYTES = 32
CRL_ROW_ID = 1


class ConflictError(ServiceError):
    """A row that must be unique exists already."""


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite returns naive times, stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_api_key(engine: Engine, name: str, scope: Scope, *, now: datetime) -> tuple[ApiKey, str]:
    """Store a new key and return it with its full text ``prov_<id>_<secret>`` (shown once)."""
    key_id, secret = secrets.token_hex(KEY_ID_BYTES), secrets.token_hex(SECRET_BYTES)
    row = ApiKey(
        id=key_id, name=name, scope=scope, secret_sha256=_secret_sha256(secret), created_at=now
    )
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return row, f"{API_KEY_PREFIX}_{key_id}_{secret}"


def split_api_key(presented: str) -> tuple[str, str] | None:
    """The ``(key id, secret)`` of a presented ``prov_<id>_<secret>``, or None when malformed."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not key_id or not secret.isascii():
        return None
    return key_id, secret


def find_api_key(engine: Engine, key_id: str) -> ApiKey | None:
    """The key row with ``key_id`` (revoked or not), or None."""
    with Session(engine) as session:
        return session.get(ApiKey, key_id)


def secret_matches(row: ApiKey, secret: str) -> bool:
    """Whether ``secret`` is the key's secret (constant-time comparison of the hashes)."""
    return hmac.compare_digest(row.secret_sha256, _secret_sha256(secret))


def authenticate(engine: Engine, presented: str) -> ApiKey | None:
    """The unrevoked key whose full text is ``presented`` (constant-time secret comparison)."""
    parsed = split_api_key(presented)
    if parsed is None:
        return None
    row = find_api_key(engine, parsed[0])
    if row is None or not secret_matches(row, parsed[1]):
        return None
    return None if row.revoked_at is not None else row


def revoke_api_key(engine: Engine, key_id: str, *, now: datetime) -> bool:
    """Revoke a key; False when there is no such unrevoked key."""
    with Session(engine) as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        session.add(row)
        session.commit()
    return True


def list_api_keys(engine: Engine) -> list[ApiKey]:
    """Every key, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select_rows(ApiKey).order_by(col(ApiKey.created_at))))


def record_issued(engine: Engine, leaf: x509.Certificate, identity: str, *, now: datetime) -> None:
    """Record a certificate this CA issued (no-op when recorded already)."""
    serial_hex = f"{leaf.serial_number:x}"
    with Session(engine) as session:
        if session.get(IssuedCertificate, serial_hex) is not None:
            return
        session.add(
            IssuedCertificate(
                serial_hex=serial_hex,
                identity=identity,
                pem=leaf.public_bytes(Encoding.PEM).decode("ascii"),
                issued_at=now,
                not_after=leaf.not_valid_after_utc,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another replica recorded it first


def issued_certificate(engine: Engine, serial_number: int) -> x509.Certificate | None:
    """The issued certificate with ``serial_number``, or None when this CA did not issue it."""
    with Session(engine) as session:
        row = session.get(IssuedCertificate, f"{serial_number:x}")
    return None if row is None else x509.load_pem_x509_certificate(row.pem.encode("ascii"))


def revocations(engine: Engine) -> list[RevocationEntry]:
    """Every recorded revocation, oldest first."""
    with engine.connect() as connection:
        return _revocations(connection)


def _revocations(connection: Connection) -> list[RevocationEntry]:
    table = _revocation_table()
    rows = connection.execute(select(table).order_by(table.c.revoked_at, table.c.serial_hex))
    return [_revocation(row) for row in rows]


def _revocation_table() -> Table:
    table: Table = RevocationRow.__table__  # type: ignore[attr-defined]
    return table


def _revocation(row: Row[Any]) -> RevocationEntry:
    return RevocationEntry(
        serial_number=int(row.serial_hex, 16),
        revoked_at=utc(row.revoked_at),
        reason=x509.ReasonFlags(row.reason),
        invalidity_date=None if row.invalidity_date is None else utc(row.invalidity_date),
    )


def add_revocation(engine: Engine, revocation: RevocationEntry) -> None:
    """Record a revocation (alone: :func:`revoke_and_publish` also publishes its CRL).

    Raises:
        ConflictError: The certificate is revoked already.
    """
    with engine.connect() as connection:
        _insert_revocation(connection, revocation)
        connection.commit()


def _insert_revocation(connection: Connection, revocation: RevocationEntry) -> None:
    serial_hex = f"{revocation.serial_number:x}"
    values = {
        "serial_hex": serial_hex,
        "reason": revocation.reason.value,
        "revoked_at": revocation.revoked_at,
        "invalidity_date": revocation.invalidity_date,
    }
    try:
        with connection.begin_nested():
            connection.execute(insert(_revocation_table()).values(**values))
    except IntegrityError as exc:
        raise ConflictError(f"certificate {serial_hex} is revoked already") from exc


def read_crl_version(engine: Engine) -> tuple[int, datetime] | None:
    """The current CRL's number and nextUpdate (without its bytes), or None before the first."""
    table: Table = CrlState.__table__  # type: ignore[attr-defined]
    query = select(table.c.crl_number, table.c.next_update).where(table.c.id == CRL_ROW_ID)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (row.crl_number, utc(row.next_update))


def read_crl(engine: Engine) -> CrlState | None:
    """The current CRL row, or None before the first CRL."""
    with Session(engine) as session:
        return session.get(CrlState, CRL_ROW_ID)


CrlBuilder = Callable[[int, list[RevocationEntry]], x509.CertificateRevocationList]
"""Builds the CRL with a given number over the given revocations."""
RevocationMaker = Callable[[list[RevocationEntry]], RevocationEntry | None]
"""Makes the revocation to record from the recorded ones (None: none to add, the CRL is published
all the same); raising abandons the unit of work."""


def publish_crl(engine: Engine, build: CrlBuilder) -> CrlState:
    """Build and store the next CRL, holding the CRL row's lock so replicas never fork numbers."""
    with engine.connect() as connection:
        state = _publish(connection, build)
        connection.commit()
    return state


def refresh_crl(
    engine: Engine, build: CrlBuilder, due: Callable[[tuple[int, datetime]], bool]
) -> CrlState | None:
    """Build and store the next CRL if ``due`` holds for the stored CRL's number and nextUpdate
    (number 0: none stored yet), decided under the CRL row's lock: of replicas refreshing at
    once, the first publishes and the others see its CRL (None: not due, nothing written)."""
    with engine.connect() as connection:
        number = _lock_crl_row(connection)
        query = select(_crl_table().c.next_update).where(_crl_table().c.id == CRL_ROW_ID)
        next_update = utc(connection.execute(query).scalar_one())
        if not due((number, next_update)):
            connection.rollback()
            return None
        state = _publish(connection, build, number)
        connection.commit()
    return state


def revoke_and_publish(
    engine: Engine, make: RevocationMaker, build: CrlBuilder
) -> tuple[RevocationEntry | None, CrlState]:
    """Record a revocation and publish the CRL that lists it as one unit of work: one transaction
    holding the CRL row's lock, so either both are applied or neither is.

    Raises:
        ConflictError: The certificate is revoked already (from ``make`` or the unique row).
        Exception: Whatever ``make`` or ``build`` raises; nothing was applied.
    """
    with engine.connect() as connection:
        number = _lock_crl_row(connection)
        entry = make(_revocations(connection))
        if entry is not None:
            _insert_revocation(connection, entry)
        state = _publish(connection, build, number)
        connection.commit()
    return entry, state


def _publish(connection: Connection, build: CrlBuilder, number: int | None = None) -> CrlState:
    """Store the next CRL over the revocations this transaction sees (not committed)."""
    if number is None:
        number = _lock_crl_row(connection)
    crl = build(number + 1, _revocations(connection))
    assert crl.next_update_utc is not None  # build_crl always sets nextUpdate
    state = CrlState(
        id=CRL_ROW_ID,
        crl_number=number + 1,
        crl_der=crl.public_bytes(Encoding.DER),
        next_update=crl.next_update_utc,
    )
    connection.execute(
        update(_crl_table())
        .where(_crl_table().c.id == CRL_ROW_ID)
        .values(crl_number=state.crl_number, crl_der=state.crl_der, next_update=state.next_update)
    )
    return state


def _crl_table() -> Table:
    table: Table = CrlState.__table__  # type: ignore[attr-defined]
    return table


def _lock_crl_row(connection: Connection) -> int:
    table = _crl_table()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    query = select(table.c.crl_number).where(table.c.id == CRL_ROW_ID)
    if connection.dialect.name != "sqlite":
        query = query.with_for_update()
    number: int | None = connection.execute(query).scalar_one_or_none()
    if number is not None:
        return number
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    values = {"id": CRL_ROW_ID, "crl_number": 0, "crl_der": b"", "next_update": epoch}
    try:
        with connection.begin_nested():
            connection.execute(insert(table).values(**values))
    except IntegrityError:
        pass  # another replica inserted it; lock it below
    return int(connection.execute(query).scalar_one())


def find_idempotent(engine: Engine, key_id: str, idempotency_key: str) -> IdempotencyRecord | None:
    """The stored answer for ``(key_id, idempotency_key)``, if any."""
    with Session(engine) as session:
        return session.get(IdempotencyRecord, (key_id, idempotency_key))


def save_idempotent(engine: Engine, record: IdempotencyRecord) -> IdempotencyRecord:
    """Store an answer; when a concurrent request stored one first, return that one instead."""
    with Session(engine) as session:
        session.add(record)
        try:
            session.commit()
            session.refresh(record)
            return record
        except IntegrityError:
            session.rollback()
    stored = find_idempotent(engine, record.key_id, record.idempotency_key)
    assert stored is not None
    return stored


def _submissions() -> Table:
    table: Table = LogSubmission.__table__  # type: ignore[attr-defined]
    return table


def claim_submission(
    engine: Engine, signature_sha256: str, signer_sha256: str, *, now: datetime
) -> LogSubmission | None:
    """Claim the logging of one signature: None when this call claimed it, else the row of the
    submission that claimed it first (its ``log_index`` is None while that one appends)."""
    table = _submissions()
    values = {
        "signature_sha256": signature_sha256,
        "signer_sha256": signer_sha256,
        "claimed_at": utc(now),
        "keyid": "",
    }
    with engine.connect() as connection:
        try:
            connection.execute(insert(table).values(log_index=None, **values))
            connection.commit()
            return None
        except IntegrityError:
            connection.rollback()
    with Session(engine) as session:
        found = session.get(LogSubmission, (signature_sha256, signer_sha256))
    if found is None:  # the claim that blocked ours was released meanwhile
        return claim_submission(engine, signature_sha256, signer_sha256, now=now)
    return found


def submission_under_any(
    engine: Engine, signature_sha256: str, signers_sha256: Sequence[str]
) -> LogSubmission | None:
    """A claim of one signature under one of ``signers_sha256`` (logged or being logged), in one
    query, or None."""
    if not signers_sha256:
        return None
    query = (
        select_rows(LogSubmission)
        .where(col(LogSubmission.signature_sha256) == signature_sha256)
        .where(col(LogSubmission.signer_sha256).in_(signers_sha256))
        .limit(1)
    )
    with Session(engine) as session:
        return session.exec(query).first()


def other_certificate_submission(
    engine: Engine, signature_sha256: str, signer_sha256: str
) -> LogSubmission | None:
    """A submission of the same signature under another signer (another certificate of its
    key: a signature verifies under one key), logged or being logged, or None: a logged one
    first, else the latest claimed (a claim left by a request that died hides neither)."""
    query = (
        select_rows(LogSubmission)
        .where(col(LogSubmission.signature_sha256) == signature_sha256)
        .where(col(LogSubmission.signer_sha256) != signer_sha256)
        .order_by(col(LogSubmission.log_index).is_(None), col(LogSubmission.claimed_at).desc())
        .limit(1)
    )
    with Session(engine) as session:
        return session.exec(query).first()


def take_over_submission(engine: Engine, stale: LogSubmission, *, now: datetime) -> bool:
    """Take over a claim whose request never recorded an index (it died); True if this call did."""
    table = _submissions()
    query = (
        update(table)
        .where(table.c.signature_sha256 == stale.signature_sha256)
        .where(table.c.signer_sha256 == stale.signer_sha256)
        .where(table.c.log_index.is_(None))
        .where(table.c.claimed_at == stale.claimed_at)
        .values(claimed_at=utc(now))
    )
    with engine.connect() as connection:
        taken = connection.execute(query).rowcount == 1
        connection.commit()
    return taken


@dataclass(frozen=True)
class Claim:
    """One request's claim of a signature's logging (the ``claimed_at`` it claimed or took it
    over at) and the ``keyid`` of the envelope whose leaf it appends."""

    signature_sha256: str
    signer_sha256: str
    claimed_at: datetime
    keyid: str


def log_claims(
    connection: Connection, claims: Sequence[Claim | None], first_index: int
) -> list[int]:
    """Settle a log batch's claims in its append's transaction, holding the log's lock.

    Locks every claim of the batch's signatures, under any signer (``SELECT ... FOR UPDATE``: a
    takeover waits for the append to end, then finds the index) and admits a submission's entry
    only if its own claim is still the one that queued it (not taken over by a retry, nor
    released), no claim of its signature under any signer (another certificate of its key) has a
    log index, and no entry of the batch before it has its signature: a signature gets one entry.
    Writes each admitted entry's log index and keyid into its claim, so that the claim has its
    index exactly when the append commits. The claim of an entry left out is left as it is (its
    request releases it if it is still its own: nothing of it was logged).

    Args:
        connection: The append's transaction.
        claims: The claim of each entry of the batch, None for an entry that is no submission.
        first_index: The log's size before the append: the index of the first entry appended.

    Returns:
        The positions in ``claims`` of the entries to append.
    """
    table = _submissions()
    rows = _signature_claims(connection, table, [c for c in claims if c is not None])
    held = {(s, g): at for (s, g), (at, index) in rows.items() if index is None}
    logged_signatures = {s for (s, _g), (_at, index) in rows.items() if index is not None}
    kept: list[int] = []
    logged: list[dict[str, Any]] = []
    for position, claim in enumerate(claims):
        if claim is not None:
            key = (claim.signature_sha256, claim.signer_sha256)
            if held.get(key) != utc(claim.claimed_at):
                continue  # taken over or released: its new holder logs it
            del held[key]  # one entry per claim
            if claim.signature_sha256 in logged_signatures:
                continue  # logged under another signer, or by an entry before it in the batch
            logged_signatures.add(claim.signature_sha256)
            logged.append(
                {"s": key[0], "g": key[1], "i": first_index + len(kept), "k": claim.keyid}
            )
        kept.append(position)
    if logged:
        connection.execute(
            update(table)
            .where(table.c.signature_sha256 == bindparam("s"))
            .where(table.c.signer_sha256 == bindparam("g"))
            .values(log_index=bindparam("i"), keyid=bindparam("k")),
            logged,
        )
    return kept


SIGNATURES_PER_QUERY = 500
"""How many signatures one claim lookup names (``IN``): far below SQLite's and PostgreSQL's
limits on bound parameters, whatever the batch size."""


def _signature_claims(
    connection: Connection, table: Table, claims: Sequence[Claim]
) -> dict[tuple[str, str], tuple[datetime, int | None]]:
    """Every claim of the signatures of ``claims`` under any signer, locked: its ``claimed_at``
    and log index by (signature, signer). No query without claims (a ``/v1/sign`` batch)."""
    signatures = sorted({claim.signature_sha256 for claim in claims})
    found: dict[tuple[str, str], tuple[datetime, int | None]] = {}
    for start in range(0, len(signatures), SIGNATURES_PER_QUERY):
        chunk = signatures[start : start + SIGNATURES_PER_QUERY]
        query = (
            select(
                table.c.signature_sha256,
                table.c.signer_sha256,
                table.c.claimed_at,
                table.c.log_index,
            )
            .where(table.c.signature_sha256.in_(chunk))
            .with_for_update()
        )
        for row in connection.execute(query):
            key = (row.signature_sha256, row.signer_sha256)
            found[key] = (utc(row.claimed_at), row.log_index)
    return found


def release_submission(engine: Engine, claim: Claim) -> None:
    """Drop a claim whose append failed (nothing was logged), so that a retry can log it; a claim
    taken over since, or logged, is left alone."""
    table = _submissions()
    with engine.connect() as connection:
        connection.execute(
            delete(table)
            .where(table.c.signature_sha256 == claim.signature_sha256)
            .where(table.c.signer_sha256 == claim.signer_sha256)
            .where(table.c.claimed_at == utc(claim.claimed_at))
            .where(table.c.log_index.is_(None))
        )
        connection.commit()
