"""The publisher's authority over the database: issuance, revocation, CRLs and the trust root.

Issued certificates and revocations live in the database so that every replica sees them; the CRL
is rebuilt from those rows (signed by the issuing key) whenever a revocation is added, and
re-issued by :meth:`StoredAuthority.refresh_crl` (at start and by the service's CRL refresher,
:class:`~verifier_api.crl_refresher.CrlRefresher`) once it is less than a day from its
nextUpdate. Reading the trust root never writes: ``/v1/verify``, the CRL and trust-root routes and the TUF timestamp use the stored
CRL as it is (past its nextUpdate the library reports it ``certificate.crl.stale``), so they
answer with a read-only database. The verifier for ``/v1/verify`` is built once per CRL number and
rebuilt when the CRL changes. The CRL number is read at most once per ``crl_check_seconds``
(``PROVENANCE_CRL_CHECK_SECONDS``), so a verify request does not query the database in the steady
state: a CRL published on another replica counts here within that many seconds, one published by
this replica at once.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy.engine import Engine

from provenance import Verifier
from provenance.identity import (
    AuthorityState,
    RevocationEntry,
    TrustRoot,
    build_crl,
    export_trust_root,
    issue_from_csr,
    revoke,
)
from verifier_api import crud
from verifier_api.errors import ApiError
from verifier_api.models import CrlState
from verifier_api.publisher import Publisher, crl_url

CRL_REFRESH_MARGIN = timedelta(days=1)
"""A CRL this close to its nextUpdate is re-issued by :meth:`StoredAuthority.refresh_crl`."""


CRL_UNAVAILABLE = "crl.unavailable"
CRL_RETRY_SECONDS = 5


class CrlMissingError(ApiError):
    """No CRL is stored: the service publishes one at start, before it serves a request, so the
    row went away under it (a DELETE, a restore); 503 ``crl.unavailable`` until the CRL refresher
    publishes one again."""

    def __init__(self, message: str) -> None:
        super().__init__(503, CRL_UNAVAILABLE, message, {"Retry-After": str(CRL_RETRY_SECONDS)})


class StoredAuthority:
    """The publisher's CA, its trust root and verifier, with state in the database.

    Args:
        engine: The service database.
        publisher: The loaded publisher home.
        crl_check_seconds: The longest the CRL number read last is used without reading it again.
        clock: Monotonic seconds (a parameter for tests).
    """

    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        crl_check_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._lock = threading.Lock()
        self._cached: tuple[int, TrustRoot, Verifier] | None = None
        self._check_seconds = crl_check_seconds
        self._clock = clock
        self._version: tuple[float, tuple[int, datetime] | None] | None = None
        self._published = 0  # CRLs published here: a read that overlapped one is not kept

    def stored_crl(self) -> CrlState:
        """The stored CRL as it is (a read: nothing is published, whatever its nextUpdate).

        Raises:
            CrlMissingError: No CRL is stored (the service publishes one at start).
        """
        state = crud.read_crl(self._engine)
        if state is None or not state.crl_der:
            raise CrlMissingError(
                "no CRL is stored: the CRL refresher publishes one at its next run; retry later"
            )
        return state

    def refresh_crl(self, now: datetime) -> CrlState | None:
        """Publish the next CRL when none is stored or the stored one is due at ``now`` (within
        ``CRL_REFRESH_MARGIN`` of its nextUpdate); None when it is not due. A write: for the start,
        the CRL refresher and operator commands, never for a read.

        Due is decided again under the CRL row's lock (:func:`crud.refresh_crl`): of workers or
        replicas refreshing at once, the first publishes and the others find its CRL not due, so
        the CRL number goes up by one.

        Raises:
            SQLAlchemyError: The database cannot be read or written (read-only, full, away).
            AuthorityError: The CRL cannot be built (see :func:`provenance.identity.build_crl`).
        """
        version = crud.read_crl_version(self._engine)
        if version is not None and not self._due(version, now):
            return None
        state = crud.refresh_crl(
            self._engine, self._crl_builder(now), lambda known: self._due(known, now)
        )
        if state is not None:
            self._published_here()
        return state

    @staticmethod
    def _due(version: tuple[int, datetime], now: datetime) -> bool:
        number, next_update = version
        return number == 0 or next_update - now <= CRL_REFRESH_MARGIN

    def publish_crl(self, now: datetime) -> CrlState:
        """Publish the next CRL over every recorded revocation (whether due or not)."""
        state = crud.publish_crl(self._engine, self._crl_builder(now))
        self._published_here()
        return state

    def _crl_builder(self, now: datetime) -> crud.CrlBuilder:
        def build(
            number: int, revocations: list[RevocationEntry]
        ) -> x509.CertificateRevocationList:
            ca = dataclasses.replace(
                self._publisher.authority,
                state=AuthorityState(number - 1, revocations),
                directory=None,
            )
            return build_crl(ca, now=now)

        return build

    def _published_here(self) -> None:
        with self._lock:
            self._published += 1
            self._version = None  # this replica's own revocation counts at once

    def trust_root(self) -> tuple[TrustRoot, Verifier]:
        """This publisher's trust root (root, issuing CA, log key, stored CRL) and its verifier.

        A read, never a write: the stored CRL is used as it is, even past its nextUpdate (the
        verifier then reports ``certificate.crl.stale``); :meth:`refresh_crl` re-issues it. The
        CRL's number is read at most once per ``crl_check_seconds`` (a CRL published on another
        replica counts within that time, one published here at once); the CRL's bytes are read,
        and the verifier rebuilt, only when that number changed.

        Raises:
            CrlMissingError: No CRL is stored (the service publishes one at start).
        """
        hit = self._still_current(self._crl_version())
        if hit is not None:
            return hit
        state = self.stored_crl()
        with self._lock:
            if self._cached is None or self._cached[0] != state.crl_number:
                crl = x509.load_der_x509_crl(state.crl_der)
                trust = self._export(crl)
                self._cached = (state.crl_number, trust, Verifier(trust))
            return self._cached[1], self._cached[2]

    def held_trust_root(self) -> tuple[TrustRoot, Verifier] | None:
        """What :meth:`trust_root` answers when it needs no database read (the CRL number read
        last is recent and the cached trust root is of that CRL), else None: callable on the
        event loop."""
        known = self._version
        if known is None or self._clock() - known[0] >= self._check_seconds:
            return None
        return self._still_current(known[1])

    def _crl_version(self) -> tuple[int, datetime] | None:
        """The CRL's number and nextUpdate, read again only when the last read is too old."""
        now = self._clock()
        known = self._version
        if known is not None and now - known[0] < self._check_seconds:
            return known[1]
        published = self._published
        version = crud.read_crl_version(self._engine)
        with self._lock:
            if published == self._published:
                self._version = (now, version)
        return version

    def _still_current(
        self, version: tuple[int, datetime] | None
    ) -> tuple[TrustRoot, Verifier] | None:
        """The cached trust root and verifier if the CRL ``version`` is theirs."""
        with self._lock:
            cached = self._cached
        if cached is None or version is None or version[0] != cached[0]:
            return None
        return cached[1], cached[2]

    def _export(self, crl: x509.CertificateRevocationList) -> TrustRoot:
        base_url = self._publisher.settings.base_url
        locations = [crl_url(base_url)] if base_url.startswith("https://") else []
        retired = self._publisher.retired
        trust = export_trust_root(
            self._publisher.authority,
            crl=crl,
            log_keys=[self._publisher.log_signer.verifier.key_string, *retired.log_keys],
            crl_locations=locations,
            require_log=True,
            require_log_for_media=False,
        )
        return dataclasses.replace(
            trust,
            intermediates=trust.intermediates + retired.issuing,
            crls=trust.crls + retired.crls,
        )

    def issue(
        self, csr_pem: bytes, identity: str, days: int, now: datetime
    ) -> list[x509.Certificate]:
        """Certify a CSR's key for ``identity`` and record the certificate.

        Raises:
            AuthorityError: See :func:`provenance.identity.issue_from_csr`.
        """
        chain = issue_from_csr(self._publisher.authority, csr_pem, identity, now=now, days=days)
        crud.record_issued(self._engine, chain[0], identity, now=now)
        return chain

    def record_service_certificate(self, now: datetime) -> None:
        """Record the signing service's own certificate (so that it can be revoked)."""
        leaf = self._publisher.service_chain[0]
        crud.record_issued(self._engine, leaf, self._publisher.service_identity, now=now)

    def revoke(
        self,
        certificate: x509.Certificate,
        reason: x509.ReasonFlags,
        invalidity_date: datetime | None,
        now: datetime,
    ) -> tuple[RevocationEntry, CrlState]:
        """Revoke a certificate this CA issued and publish the next CRL, in one transaction
        (:func:`crud.revoke_and_publish`): the revocation is recorded only with the CRL listing it.

        Raises:
            AuthorityError: Not issued by this CA, a refused reason or bad times.
            ConflictError: Revoked already.
        """

        def make(known: list[RevocationEntry]) -> RevocationEntry:
            if any(entry.serial_number == certificate.serial_number for entry in known):
                raise crud.ConflictError(
                    f"certificate {certificate.serial_number:x} is revoked already"
                )
            ca = dataclasses.replace(
                self._publisher.authority, state=AuthorityState(0, known), directory=None
            )
            return revoke(ca, certificate, reason=reason, now=now, invalidity_date=invalidity_date)

        entry, state = crud.revoke_and_publish(self._engine, make, self._crl_builder(now))
        self._published_here()
        assert entry is not None  # make() always returns one
        return entry, state

    def supersede(self, certificate: x509.Certificate, when: datetime, now: datetime) -> CrlState:
        """Revoke ``certificate`` as ``superseded`` from ``when`` (unless revoked already: that
        revocation stands) and publish the next CRL, in one transaction."""

        def make(known: list[RevocationEntry]) -> RevocationEntry | None:
            if any(entry.serial_number == certificate.serial_number for entry in known):
                return None
            return RevocationEntry(
                certificate.serial_number, when, x509.ReasonFlags.superseded, None
            )

        _, state = crud.revoke_and_publish(self._engine, make, self._crl_builder(now))
        self._published_here()
        return state
