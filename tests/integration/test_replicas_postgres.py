"""Two server processes on one PostgreSQL database: concurrent signing builds one log.

Every acknowledged bundle verifies offline (with its own inclusion proof), its leaf is proven
under the latest checkpoint, and every checkpoint served is consistent with the latest one.
Needs PostgreSQL at 127.0.0.1:5432 (skipped without it unless CI is set).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from provenance.encoding import b64decode_strict
from provenance.identity.trust import TrustRoot
from provenance.tlog import merkle
from provenance.tlog.note import NoteVerifier, open_checkpoint
from tests.integration.api.support import (
    make_home,
    postgres_database,
    server_process,
    sign_body,
    verify_offline,
)
from verifier_api import crud
from verifier_api.db import make_engine
from verifier_api.migrations import upgrade_database
from verifier_api.scopes import Scope
from verifier_api.service import utc_now

pytestmark = pytest.mark.postgres
SIGNS_PER_REPLICA = 50
CLIENT_THREADS = 16


def _api_key(database_url: str) -> str:
    engine = make_engine(database_url)
    upgrade_database(engine)
    _, key = crud.create_api_key(engine, "replicas", Scope.SIGN, now=utc_now())
    engine.dispose()
    return key


def _sign_all(bases: list[str], key: str) -> list[tuple[str, dict[str, Any]]]:
    jobs = [
        (base, f"Review {n} via replica {r}.\n")
        for n in range(SIGNS_PER_REPLICA)
        for r, base in enumerate(bases)
    ]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=60, headers=headers) as client:

        def sign(job: tuple[str, str]) -> tuple[str, dict[str, Any]]:
            base, text = job
            response = client.post(f"{base}/v1/sign", json=sign_body(content=text))
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return text, body

        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            return list(pool.map(sign, jobs))


def _check_latest(base: str, signed: list[tuple[str, dict[str, Any]]], trust: TrustRoot) -> None:
    origin = signed[0][1]["bundle"]["verificationMaterial"]["tlogEntries"][0]["logId"]["origin"]
    verifiers = [NoteVerifier.from_key_string(k) for k in trust.log_keys]
    latest = open_checkpoint(httpx.get(f"{base}/v1/log/checkpoint").text, verifiers, origin=origin)
    assert latest.size == len(signed)
    seen: dict[int, bytes] = {}
    for _, body in signed:
        entry = body["bundle"]["verificationMaterial"]["tlogEntries"][0]
        proof = httpx.get(
            f"{base}/v1/log/proofs/inclusion",
            params={"index": entry["logIndex"], "treeSize": latest.size},
        ).json()
        hashes = [b64decode_strict(h) for h in proof["hashes"]]
        leaf = b64decode_strict(entry["leafHash"])
        merkle.verify_inclusion(entry["logIndex"], latest.size, leaf, hashes, latest.root_hash)
        served = open_checkpoint(
            entry["inclusionProof"]["checkpoint"]["envelope"], verifiers, origin=origin
        )
        seen[served.size] = served.root_hash
    for size, root in sorted(seen.items()):
        consistency = httpx.get(
            f"{base}/v1/log/proofs/consistency", params={"first": size, "second": latest.size}
        ).json()
        proof = [b64decode_strict(h) for h in consistency["hashes"]]
        merkle.verify_consistency(size, latest.size, root, latest.root_hash, proof)


def test_two_replicas_on_one_database_build_one_log(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database())
        key = _api_key(url)
        bases = [stack.enter_context(server_process(home, url)) for _ in range(2)]
        signed = _sign_all(bases, key)
        indices = sorted(body["logIndex"] for _, body in signed)
        assert indices == list(range(2 * SIGNS_PER_REPLICA))
        trust_json = httpx.get(f"{bases[0]}/.well-known/provenance/trust-root.json").content
        assert httpx.get(f"{bases[1]}/.well-known/provenance/trust-root.json").content == trust_json
        for text, body in signed:
            result = verify_offline(trust_json, text, body["bundle"])
            assert result.verified, result.failures
        _check_latest(bases[1], signed, TrustRoot.from_json(trust_json))
