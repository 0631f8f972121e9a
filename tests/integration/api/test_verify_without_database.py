"""A verify request reads and writes no database in the steady state (issue 14).

API keys are cached with a bounded staleness, the CRL number is re-read at most once per interval,
and the rate limit counts in memory (per process) or in Redis (shared by every replica).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, sign_body
from verifier_api import crud
from verifier_api.keycache import ApiKeyCache
from verifier_api.ratelimit import (
    MemoryRateLimiter,
    RateLimiterUnavailableError,
    RedisRateLimiter,
)
from verifier_api.scopes import Scope
from verifier_api.stored_authority import StoredAuthority

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def cached(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app whose key cache and CRL check outlast the test (so no read is due by time)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cached') / 'provenance.db'}"
    yield from open_api(
        home, url, api_key_cache_seconds=300, crl_check_seconds=300, rate_limit_per_minute=10_000
    )


def _signed(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def test_verify_in_the_steady_state_sends_no_sql(cached: Api) -> None:
    bundle = _signed(cached)
    body = {"content": REVIEW, "bundle": bundle}
    headers = cached.keys.header("verify")
    assert cached.client.post("/v1/verify", json=body, headers=headers).json()["verified"]
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(cached.service.engine, "before_cursor_execute", record)
    try:
        answers = [cached.client.post("/v1/verify", json=body, headers=headers) for _ in range(5)]
    finally:
        event.remove(cached.service.engine, "before_cursor_execute", record)
    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.json()["verified"] for a in answers)
    assert statements == []


def test_revoked_key_works_until_the_cache_interval_passes_then_401(cached: Api) -> None:
    engine = cached.service.engine
    clock = FakeClock()
    cache = ApiKeyCache(engine, ttl_seconds=5, clock=clock)
    row, full = crud.create_api_key(engine, "soon revoked", Scope.VERIFY, now=datetime.now(UTC))
    assert cache.authenticate(full) is not None
    crud.revoke_api_key(engine, row.id, now=datetime.now(UTC))
    clock.now += 4.9
    assert cache.authenticate(full) is not None  # the stated staleness: at most 5 seconds
    clock.now += 0.2
    assert cache.authenticate(full) is None


def test_key_cache_of_zero_seconds_sees_a_revocation_at_once(cached: Api) -> None:
    engine = cached.service.engine
    cache = ApiKeyCache(engine, ttl_seconds=0, clock=FakeClock())
    row, full = crud.create_api_key(engine, "revoked now", Scope.VERIFY, now=datetime.now(UTC))
    assert cache.authenticate(full) is not None
    crud.revoke_api_key(engine, row.id, now=datetime.now(UTC))
    assert cache.authenticate(full) is None


def test_cached_key_still_refuses_a_wrong_secret(cached: Api) -> None:
    cache = ApiKeyCache(cached.service.engine, ttl_seconds=300, clock=FakeClock())
    assert cache.authenticate(cached.keys.verify) is not None
    prefix, key_id, secret = cached.keys.verify.split("_")
    wrong = f"{prefix}_{key_id}_{'0' * len(secret)}"
    assert cache.authenticate(wrong) is None
    assert cache.authenticate(cached.keys.verify) is not None


def test_cache_alone_answers_only_a_fresh_cached_row_with_its_secret(cached: Api) -> None:
    """``cached`` (what the event loop may ask, with no database read) admits a key only from a
    fresh cached row with the right secret; everything else goes to :meth:`authenticate`."""
    engine = cached.service.engine
    clock = FakeClock()
    cache = ApiKeyCache(engine, ttl_seconds=5, clock=clock)
    row, full = crud.create_api_key(engine, "loop", Scope.VERIFY, now=datetime.now(UTC))
    assert cache.cached(full) == (False, None)  # not cached yet: the database decides
    assert cache.authenticate(full) is not None
    known, cached_row = cache.cached(full)
    assert known and cached_row is not None and cached_row.id == row.id
    prefix, key_id, secret = full.split("_")
    assert cache.cached(f"{prefix}_{key_id}_{'0' * len(secret)}") == (True, None)
    assert cache.cached("not a key") == (True, None)
    clock.now += 5
    assert cache.cached(full) == (False, None)  # stale: the database decides again


def test_a_key_the_cache_does_not_know_is_never_read_on_the_event_loop(
    home: Path, tmp_path: Path
) -> None:
    """A cache miss reads the database; that read runs in the thread pool, for the body check of
    the strict JSON pass and for the route's key check alike, never blocking the event loop."""
    url = f"sqlite:///{tmp_path / 'provenance.db'}"
    on_the_loop: list[bool] = []

    def recorded(real: Callable[[str], Any]) -> Callable[[str], Any]:
        def recording(presented: str) -> Any:
            try:
                asyncio.get_running_loop()
                on_the_loop.append(True)
            except RuntimeError:
                on_the_loop.append(False)
            return real(presented)

        return recording

    for api in open_api(home, url, api_key_cache_seconds=300):
        recording = recorded(api.service.keys.authenticate)

        api.service.keys.authenticate = recording  # type: ignore[method-assign, assignment]
        body = {"content": REVIEW, "bundle": _signed(api)}
        for key in (api.keys.verify, "prov_unknown_0000"):
            headers = {"Authorization": f"Bearer {key}"}
            api.client.post("/v1/verify", json=body, headers=headers)
            api.client.get("/v1/log/entries/0", headers=headers)
        assert on_the_loop and not any(on_the_loop)


def test_crl_of_another_replica_counts_after_the_check_interval(cached: Api) -> None:
    engine, publisher = cached.service.engine, cached.service.publisher
    clock = FakeClock()
    here = StoredAuthority(engine, publisher, crl_check_seconds=5, clock=clock)
    other = StoredAuthority(engine, publisher)  # another replica over the same database
    now = datetime.now(UTC).replace(microsecond=0)
    before = here.trust_root()[0].crls[0]
    other.publish_crl(now)
    clock.now += 4.9
    assert here.trust_root()[0].crls[0] == before  # the stated staleness: at most 5 seconds
    clock.now += 0.2
    after = here.trust_root()[0].crls[0]
    assert after != before


def test_crl_published_by_this_replica_counts_at_once(cached: Api) -> None:
    engine, publisher = cached.service.engine, cached.service.publisher
    here = StoredAuthority(engine, publisher, crl_check_seconds=300, clock=FakeClock())
    now = datetime.now(UTC).replace(microsecond=0)
    before = here.trust_root()[0].crls[0]
    here.publish_crl(now)
    assert here.trust_root()[0].crls[0] != before


def test_the_held_trust_root_is_what_trust_root_answers_without_a_database_read(
    cached: Api,
) -> None:
    engine, publisher = cached.service.engine, cached.service.publisher
    clock = FakeClock()
    here = StoredAuthority(engine, publisher, crl_check_seconds=5, clock=clock)
    now = datetime.now(UTC).replace(microsecond=0)
    assert here.held_trust_root() is None  # nothing read yet
    read = here.trust_root()
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        held = here.held_trust_root()
        clock.now += 5
        due = here.held_trust_root()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert held is not None and held[0] is read[0] and held[1] is read[1]
    assert (due, statements) == (None, [])  # the CRL number is due to be read again
    assert here.trust_root() == read
    here.publish_crl(now)
    assert here.held_trust_root() is None  # this replica's own CRL counts at once


def test_memory_rate_limit_is_per_process() -> None:
    one, two = MemoryRateLimiter(), MemoryRateLimiter()
    assert [one.hit("k", 60) for _ in range(3)] == [1, 2, 3]
    assert two.hit("k", 60) == 1
    assert one.hit("k", 120) == 1  # a new window starts from one


def _redis_or_skip() -> RedisRateLimiter:
    limiter = RedisRateLimiter(REDIS_URL)
    try:
        limiter.hit(f"probe-{uuid.uuid4().hex}", 0)
    except RateLimiterUnavailableError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} does not answer: {exc} (CI is set)")
        pytest.skip(f"Redis at {REDIS_URL} does not answer: {exc}")
    return limiter


def test_redis_rate_limit_is_shared_by_replicas() -> None:
    one, two = _redis_or_skip(), RedisRateLimiter(REDIS_URL)
    key = f"shared-{uuid.uuid4().hex}"
    assert [one.hit(key, 60), two.hit(key, 60), one.hit(key, 60)] == [1, 2, 3]
    assert two.hit(key, 120) == 1
    one.close()
    two.close()


def test_two_apps_on_one_redis_share_one_budget(
    home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _redis_or_skip().close()
    url = f"sqlite:///{tmp_path_factory.mktemp('redis') / 'provenance.db'}"
    first = open_api(home, url, rate_limit_per_minute=3, redis_url=REDIS_URL)
    second = open_api(home, url, rate_limit_per_minute=3, redis_url=REDIS_URL)
    one, two = next(first), next(second)
    body = {"content": "x", "bundle": {}}
    statuses = [
        api.client.post("/v1/verify", json=body, headers=one.keys.header("verify")).status_code
        for api in (one, two, one, two)
    ]
    assert statuses == [200, 200, 200, 429]
    for generator in (first, second):
        generator.close()


def test_unreachable_redis_answers_503(
    home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('noredis') / 'provenance.db'}"
    apps = open_api(home, url, redis_url="redis://127.0.0.1:1/0")
    api = next(apps)
    response = api.client.post(
        "/v1/verify", json={"content": "x", "bundle": {}}, headers=api.keys.header("verify")
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ratelimit.unavailable"
    apps.close()
