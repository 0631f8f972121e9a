"""The CRL refresher: re-issues the stored CRL before its nextUpdate, off the request path.

Reading the trust root never writes (``/v1/verify`` answers with a read-only database), so the CRL
is re-issued here: one thread per process wakes every ``crl_refresh_seconds``
(``PROVENANCE_CRL_REFRESH_SECONDS``) and calls :meth:`StoredAuthority.refresh_crl`, which publishes
only once the stored CRL is within a day of its nextUpdate and decides that under the CRL row's
lock, so of every worker and replica the first publishes and the CRL number goes up by one. A
refresh that fails (a read-only or unreachable database) is logged and tried again at the next
wake-up; until one succeeds, verification uses the stored CRL and reports it
``certificate.crl.stale`` once past its nextUpdate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from provenance import printable
from verifier_api.errors import database_fault
from verifier_api.models import CrlState
from verifier_api.stored_authority import StoredAuthority

logger = logging.getLogger(__name__)


def _reason(exc: Exception) -> str:
    """One line naming the fault: a database's stable code and the driver's reason (never the SQL
    or its values), else the exception's class and first line."""
    if isinstance(exc, SQLAlchemyError):
        code, _ = database_fault(exc)
        orig = getattr(exc, "orig", None) or exc
        return f"{code}: {type(orig).__name__}: {printable((str(orig).splitlines() or [''])[0])}"
    return f"{type(exc).__name__}: {printable((str(exc).splitlines() or [''])[0])}"


class CrlRefresher:
    """Calls :meth:`StoredAuthority.refresh_crl` every ``interval_seconds`` from one thread.

    Args:
        authority: The publisher's authority over the database.
        interval_seconds: Seconds between two refreshes (far below the one-day margin).
        clock: The wall clock (UTC) the refresh is judged at.
    """

    def __init__(
        self,
        authority: StoredAuthority,
        interval_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._authority = authority
        self._interval = interval_seconds
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> CrlState | None:
        """Re-issue the CRL if it is due now; None when it is not due or the refresh failed
        (logged: the next wake-up tries again)."""
        try:
            return self._authority.refresh_crl(self._clock())
        except Exception as exc:  # any fault waits for the next wake-up; the thread must live on
            logger.error(
                "the CRL refresh failed (%s); it is tried again in %ss",
                _reason(exc),
                self._interval,
            )
            return None

    def start(self) -> None:
        """Start the refreshing thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="crl-refresher", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and wait for a refresh under way."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.refresh()
