"""API keys read from the database at most once per key and staleness interval.

A verify request would otherwise read its key's row every time. The cache keeps known, unrevoked
key rows for ``PROVENANCE_API_KEY_CACHE_SECONDS`` (default 5): a key revoked in the database (by
``prov`` or another replica) stops working on every replica within that many seconds; 0 reads the
database on every request. The presented secret is compared with the stored hash on every request;
unknown key ids are never cached, so a new key works at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.engine import Engine

from verifier_api import crud
from verifier_api.models import ApiKey
from verifier_api.settings import HTTP_LIMITS


class ApiKeyCache:
    """Authenticates presented keys, reading each key's row at most once per ``ttl_seconds``.

    Args:
        engine: The service database.
        ttl_seconds: The longest a cached row is used (the staleness bound of a revocation).
        clock: Monotonic seconds (a parameter for tests).
        max_keys: The most rows kept; the least recently used go first.
    """

    def __init__(
        self,
        engine: Engine,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = HTTP_LIMITS.max_cached_keys,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._clock = clock
        self._max = max_keys
        self._lock = threading.Lock()
        self._rows: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()

    def authenticate(self, presented: str) -> ApiKey | None:
        """The unrevoked key whose full text is ``presented`` (see :func:`crud.authenticate`)."""
        parsed = crud.split_api_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        row = self._row(key_id)
        if row is None or not crud.secret_matches(row, secret) or row.revoked_at is not None:
            return None
        return row

    def cached(self, presented: str) -> tuple[bool, ApiKey | None]:
        """What :meth:`authenticate` would answer, from the cache alone (no database read, so
        callable on the event loop): whether the cache knows (a malformed key, or a fresh cached
        row), and the key (None: refused). Unknown: :meth:`authenticate` decides."""
        parsed = crud.split_api_key(presented)
        if parsed is None:
            return True, None
        key_id, secret = parsed
        now = self._clock()
        with self._lock:
            cached = self._rows.get(key_id)
        if cached is None or now - cached[0] >= self._ttl:
            return False, None
        row = cached[1]
        if not crud.secret_matches(row, secret) or row.revoked_at is not None:
            return True, None
        return True, row

    def _row(self, key_id: str) -> ApiKey | None:
        now = self._clock()
        with self._lock:
            cached = self._rows.get(key_id)
            if cached is not None and now - cached[0] < self._ttl:
                self._rows.move_to_end(key_id)
                return cached[1]
        row = crud.find_api_key(self._engine, key_id)
        with self._lock:
            if row is None or row.revoked_at is not None or self._ttl <= 0:
                self._rows.pop(key_id, None)
            else:
                self._rows[key_id] = (now, row)
                self._rows.move_to_end(key_id)
                while len(self._rows) > self._max:
                    self._rows.popitem(last=False)
        return row
