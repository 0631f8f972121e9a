"""The admit step of a log batch holding submissions (``crud.log_claims``), on SQLite and on
PostgreSQL: a batch of a thousand submissions is logged (on SQLite, one ``OR`` of ``AND``s per
claim used to exceed its expression depth of 1000 and fail the whole batch: found by attack 8),
and a signature gets one entry across the signers (certificates of its key) it is claimed under.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from provenance.tlog import TlogEntry
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home, postgres_database
from verifier_api import crud
from verifier_api.models import LogSubmission
from verifier_api.sequencer import ClaimLostError

BATCH = 1000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    home = make_home(tmp_path / "home")
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'provenance.db'}"
        yield from open_api(home, url, rate_limit_per_minute=100_000, sign_batch_max=2048)


def _claimed(api: Api, signature: str, signer: str, now: datetime, keyid: str = "k") -> crud.Claim:
    assert crud.claim_submission(api.service.engine, signature, signer, now=now) is None
    return crud.Claim(signature, signer, now, keyid)


def _one_batch(
    api: Api, monkeypatch: pytest.MonkeyPatch, claims: Sequence[crud.Claim | None]
) -> list[Future[TlogEntry]]:
    """Queue one entry per claim (None: a ``/v1/sign`` entry) before the worker drains the queue,
    so that they form one batch; return their futures once settled."""
    sequencer = api.service.sequencer
    with monkeypatch.context() as patch:
        patch.setattr(sequencer, "_ensure_worker", lambda: None)
        futures = [
            sequencer.enqueue(bytes([n % 256]) * 32, bytes(32), None, claim)
            for n, claim in enumerate(claims)
        ]
    sequencer._ensure_worker()
    wait(futures, timeout=120)
    return futures


def _row(api: Api, signature: str, signer: str) -> LogSubmission | None:
    with Session(api.service.engine) as session:
        return session.get(LogSubmission, (signature, signer))


def test_a_batch_of_a_thousand_submissions_is_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    claims = [_claimed(api, f"{n:064x}", f"{n + 1:064x}", now) for n in range(BATCH)]
    size = api.service.log.state().size
    futures = _one_batch(api, monkeypatch, claims)
    failed = [f.exception() for f in futures if f.exception() is not None]
    assert not failed, f"{len(failed)} of {BATCH} submissions failed: {failed[0]}"
    assert sorted(f.result().log_index for f in futures) == list(range(size, size + BATCH))
    assert api.service.log.state().size == size + BATCH
    last = _row(api, f"{BATCH - 1:064x}", f"{BATCH:064x}")
    assert last is not None
    assert last.log_index == futures[-1].result().log_index


def test_of_one_signature_under_two_signers_in_a_batch_only_the_first_is_appended(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    signature = "a" * 64
    first, second = _claimed(api, signature, "1" * 64, now), _claimed(api, signature, "2" * 64, now)
    size = api.service.log.state().size
    logged, dropped, signed = _one_batch(api, monkeypatch, [first, second, None])
    assert isinstance(dropped.exception(), ClaimLostError)
    assert (logged.result().log_index, signed.result().log_index) == (size, size + 1)
    assert api.service.log.state().size == size + 2
    row = _row(api, signature, "1" * 64)
    assert row is not None
    assert row.log_index == size
    dropped_claim = _row(api, signature, "2" * 64)
    assert dropped_claim is not None  # its request releases it (submissions.submit_bundle)
    assert dropped_claim.log_index is None


def test_a_signature_logged_under_another_signer_is_not_appended_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    signature = "b" * 64
    (logged,) = _one_batch(api, monkeypatch, [_claimed(api, signature, "1" * 64, now)])
    size = api.service.log.state().size
    dropped, kept = _one_batch(
        api,
        monkeypatch,
        [_claimed(api, signature, "2" * 64, now), _claimed(api, "c" * 64, "2" * 64, now)],
    )
    assert isinstance(dropped.exception(), ClaimLostError)
    assert kept.result().log_index == size
    assert api.service.log.state().size == size + 1
    dropped_claim = _row(api, signature, "2" * 64)
    assert dropped_claim is not None
    assert dropped_claim.log_index is None
    first = _row(api, signature, "1" * 64)
    assert first is not None
    assert first.log_index == logged.result().log_index


def test_a_claim_without_index_under_another_signer_does_not_stop_the_append(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim left by a request that died (no index) does not count, as in
    ``_refuse_other_certificate``."""
    signature = "d" * 64
    _claimed(api, signature, "1" * 64, datetime.now(UTC) - timedelta(minutes=3))
    (logged,) = _one_batch(
        api, monkeypatch, [_claimed(api, signature, "2" * 64, datetime.now(UTC))]
    )
    row = _row(api, signature, "2" * 64)
    assert row is not None
    assert row.log_index == logged.result().log_index
