"""kill -9 the server while it signs concurrently, restart it: nothing acknowledged is lost.

Every bundle answered with HTTP 200 before the kill is in the log at its index, its inclusion
proof verifies offline against the latest signed checkpoint, every bundle verifies offline with
the library, every checkpoint served before the kill (and every one a bundle's proof leads to) is
consistent with it, and the restarted server signs again. On PostgreSQL (a fresh database
per test) and on the SQLite default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.faults.support import (
    CheckpointWatcher,
    ServerProcess,
    SigningRun,
    audit_database,
    audit_served_log,
    origin_of,
    sign_key,
)
from tests.integration.api.support import make_home, postgres_database, sign_body, verify_offline

SIGNING_THREADS = 16
SIGNED_BEFORE_KILL = 60


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database, or a SQLite file (the default layout, in the home)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'provenance.db'}"
        return
    with postgres_database() as url:
        yield url


def _sign_then_kill(server: ServerProcess, key: str) -> tuple[SigningRun, CheckpointWatcher]:
    watcher = CheckpointWatcher(server.base)
    run = SigningRun(server.base, key)
    watcher.start()
    run.start(SIGNING_THREADS, "before-kill")
    try:
        run.wait_for(SIGNED_BEFORE_KILL, timeout=60)
        watcher.wait_for(2, timeout=60)  # the consistency check needs two served checkpoints
        server.kill()
    finally:
        run.stop()
        watcher.stop()
    return run, watcher


def _bundle_checkpoints(run: SigningRun) -> list[str]:
    """The signed checkpoint each acknowledged bundle's inclusion proof leads to."""
    return sorted(
        {
            entry["inclusionProof"]["checkpoint"]["envelope"]
            for _, answer in run.acknowledged
            for entry in answer["bundle"]["verificationMaterial"]["tlogEntries"]
        }
    )


def test_kill_9_during_concurrent_signing_loses_no_acknowledged_entry(
    tmp_path: Path, database_url: str
) -> None:
    home = make_home(tmp_path / "home")
    key = sign_key(database_url)
    with ExitStack() as stack:
        server = ServerProcess(home, database_url)
        stack.callback(server.stop)
        server.start()
        run, watcher = _sign_then_kill(server, key)
        assert run.refused == [], run.refused[:3]
        assert run.transport_errors > 0, "no request was in flight at the kill"
        restarted = ServerProcess(home, database_url)
        stack.callback(restarted.stop)
        restarted.start()
        assert len(watcher.notes) > 1
        with httpx.Client(base_url=restarted.base, timeout=30) as client:
            # the checkpoints the bundles were proven under are of the same tree as the latest
            notes = watcher.notes + _bundle_checkpoints(run)
            latest = audit_served_log(client, run.acknowledged, notes)
        assert latest.size >= max(a["logIndex"] for _, a in run.acknowledged) + 1
        assert audit_database(database_url, origin_of(run.acknowledged), []) == latest.size
        trust = httpx.get(f"{restarted.base}/.well-known/provenance/trust-root.json").content
        refused = [
            answer["logIndex"]
            for text, answer in run.acknowledged
            if not verify_offline(trust, text, answer["bundle"]).verified
        ]
        assert refused == [], f"{len(refused)} of {len(run.acknowledged)} bundles do not verify"
        after = httpx.post(
            f"{restarted.base}/v1/sign",
            json=sign_body(content="Signed after the restart.\n"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert after.status_code == 200, after.text
        assert after.json()["logIndex"] == latest.size
