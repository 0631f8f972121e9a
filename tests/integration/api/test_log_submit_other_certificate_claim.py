"""A signature is logged once across the certificates of its key, even when the first
submission's append outlives the stale-claim age.

``_refuse_other_certificate`` lets a submission under another certificate of the same key go ahead
when the other certificate's claim has no index and is older than ``STALE_CLAIM`` (a request that
died). The other certificate's claim is never taken over (its key, (signature, signer), differs),
so when the first request did not die (its append waits for the log's lock, held by another
replica, past the stale age) both appends used to commit: two entries for one signature, the
second with a later log time (the re-logging the threat model refuses with 409
``log.certificate_conflict``). The append's admit step (``crud.log_claims``) now locks every claim
of the batch's signatures and leaves out an entry whose signature has an index under any signer;
the dropped entry's claim is deleted in that transaction, so its retry is refused 409
``log.certificate_conflict``. Found by attack 8.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from sqlalchemy import text
from sqlmodel import Session, col, select

from provenance.bundle import Bundle
from provenance.identity import create_csr
from provenance.keys import KeyType, SigningKey, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import BASE_URL, REVIEW, make_home, postgres_database
from verifier_api import sequencer, submissions
from verifier_api.models import LogSubmission

AUTHOR = f"{BASE_URL}/u/author-two-certificates"
pytestmark = pytest.mark.postgres


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    home = make_home(tmp_path / "home")
    with postgres_database() as url:
        yield from open_api(home, url, rate_limit_per_minute=100_000)


def _certify(api: Api, key: SigningKey) -> tuple[x509.Certificate, ...]:
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": AUTHOR}
    issued = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert issued.status_code == 201, issued.text
    return tuple(
        x509.load_pem_x509_certificate(p.encode()) for p in issued.json()["certificateChain"]
    )


def _submit(api: Api, bundle: Bundle) -> Any:
    return api.client.post(
        "/v1/log/entries", json={"bundle": bundle.to_json()}, headers=api.keys.header("log")
    )


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30  # a wait for another thread, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _signature_leaves(api: Api, bundle: Bundle, size: int) -> int:
    digest = bundle.envelope.sha256()
    state = api.service.log.state()
    return sum(
        api.service.log.entry(index).envelope_sha256 == digest for index in range(size, state.size)
    )


def _claims(api: Api, bundle: Bundle) -> list[int | None]:
    """The log index of each claim of ``bundle``'s signature (under any signer)."""
    signature = bundle.envelope.signature_sha256().hex()
    with Session(api.service.engine) as session:
        query = select(LogSubmission).where(col(LogSubmission.signature_sha256) == signature)
        return [row.log_index for row in session.exec(query)]


def _code(response: Any) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error", {}).get("code")


def test_a_signature_is_not_logged_again_under_its_keys_other_certificate_while_appending(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first submission's append waits for the log's lock past the stale-claim age; the same
    envelope under a renewed certificate of the key passes ``_refuse_other_certificate`` then and
    queues; the admit step leaves it out once the first one's entry is committed."""
    key = generate_key(KeyType.P256)
    first_chain, renewed_chain = _certify(api, key), _certify(api, key)
    assert first_chain[0] != renewed_chain[0]
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    bundle = Signer(key, first_chain).sign(REVIEW.encode(), "review.txt", predicate)
    under_renewal = dataclasses.replace(bundle, certificates=renewed_chain)
    size = api.service.log.state().size
    monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(submissions, "STALE_CLAIM", timedelta(seconds=1.5))
    with api.service.engine.connect() as blocker, ThreadPoolExecutor(1) as pool:
        blocker.execute(text("SELECT size FROM tlog_state FOR UPDATE"))  # another replica
        first = _submit(api, bundle)  # its append waits for the lock; the request gives up
        assert first.status_code == 503, first.text
        time.sleep(1.0)  # its claim is now older than STALE_CLAIM; its append still waits
        monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 30.0)
        second = pool.submit(_submit, api, under_renewal)
        _until(lambda: api.service.sequencer._queue.qsize() == 1, "the second entry")
        blocker.rollback()
        answer = second.result(timeout=60)
    assert _code(answer) == (409, "log.pending")  # its entry was left out
    assert _signature_leaves(api, bundle, size) == 1
    assert api.service.log.state().size == size + 1
    assert _claims(api, bundle) == [size]  # the dropped entry's claim went with its append
    retried_first = _submit(api, bundle)
    assert (retried_first.status_code, retried_first.json()["logIndex"]) == (200, size)
    retried_second = _submit(api, under_renewal)
    assert _code(retried_second) == (409, "log.certificate_conflict")
    assert str(size) in retried_second.json()["error"]["message"]
    assert api.service.log.state().size == size + 1
    assert _claims(api, bundle) == [size]
