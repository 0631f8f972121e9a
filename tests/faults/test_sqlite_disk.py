"""The SQLite default on a read-only or full disk: a clear error, and no corruption.

Decided behavior (specs/reliability.md): a data directory that cannot be written at start makes
the service refuse to start with a clear message; a database that stops accepting writes while the
service runs gives 503 JSON (``database.read_only``, ``database.disk_full`` or
``database.io_error``) on the writing routes while reads go on; once the disk is writable again
the service signs again, and the log is intact: the root recomputed from its tiles equals the
checkpoint and every acknowledged entry is stored at its index.
"""

from __future__ import annotations

import errno
import os
import re
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event

from tests.faults.support import (
    ServerProcess,
    Signed,
    audit_database,
    audit_served_log,
    origin_of,
    running_server,
    server_errors,
    sign_key,
)
from tests.integration.api.support import PASSPHRASE, make_home, sign_body
from verifier_api.app import create_app
from verifier_api.settings import DEFAULT_DATABASE_FILE, Settings, SettingsError

FILESYSTEM_BYTES = 8 * 1024 * 1024
SIGNED_FIRST = 3
MAX_SIGNS_TO_FILL = 150
FILE_SIZE_MARGIN = 96 * 1024
WRITE_REFUSED = {"database.disk_full", "database.io_error"}


def _database_url(home: Path) -> str:
    return f"sqlite:///{home / DEFAULT_DATABASE_FILE}"


def _mount(*arguments: str) -> None:
    subprocess.run(["mount", *arguments], check=True, capture_output=True)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A fresh 8 MiB tmpfs (root only; skipped where mounting is not permitted)."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", f"size={FILESYSTEM_BYTES}", "tmpfs", str(mount_point))
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the RLIMIT_FSIZE test covers a full disk")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@contextmanager
def _in_process(home: Path) -> Iterator[TestClient]:
    """The app as ``uvicorn --factory`` builds it, on the home's SQLite default, in this process."""
    with TestClient(create_app(Settings(home=home, passphrase=SecretStr(PASSPHRASE)))) as client:
        yield client


@contextmanager
def _client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=60) as client:
        yield client


def _sign(client: httpx.Client, key: str, content: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return client.post("/v1/sign", json=sign_body(content=content), headers=headers)


def _sign_some(client: httpx.Client, key: str, label: str) -> list[Signed]:
    signed: list[Signed] = []
    for n in range(SIGNED_FIRST):
        text = f"{label} {n}: sturdy and bright.\n"
        response = _sign(client, key, text)
        assert response.status_code == 200, response.text
        signed.append((text, response.json()))
    return signed


def _sign_until_refused(client: httpx.Client, key: str) -> tuple[list[Signed], dict[str, Any]]:
    """Sign until the server refuses; every answer before that is a 200."""
    signed: list[Signed] = []
    for n in range(MAX_SIGNS_TO_FILL):
        text = f"Filling {n}: sturdy and bright.\n"
        response = _sign(client, key, text)
        if response.status_code != 200:
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/json"
            error: dict[str, Any] = response.json()["error"]
            return signed, error
        signed.append((text, response.json()))
    raise AssertionError(f"{MAX_SIGNS_TO_FILL} signs fitted on the 'full' disk")


def _set_read_only(mount_point: Path, read_only: bool) -> None:
    if os.geteuid() == 0:
        _mount("-o", f"remount,{'ro' if read_only else 'rw'}", str(mount_point))
    else:
        for directory in (mount_point, *mount_point.rglob("*")):
            if directory.is_dir():
                directory.chmod(0o555 if read_only else 0o755)


@pytest.fixture
def data_directory(tmp_path: Path) -> Iterator[Path]:
    """A directory the test can make read-only: a tmpfs for root, plain modes otherwise."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    if os.geteuid() != 0:
        yield mount_point
        _set_read_only(mount_point, False)
        return
    _mount("-t", "tmpfs", "-o", f"size={FILESYSTEM_BYTES}", "tmpfs", str(mount_point))
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_read_only_data_directory_refuses_to_start_clearly_and_keeps_the_log(
    data_directory: Path,
) -> None:
    home = make_home(data_directory / "home")
    key = sign_key(_database_url(home))
    with _in_process(home) as client:
        signed = _sign_some(client, key, "Before")
    _set_read_only(data_directory, True)
    message = f"cannot open the database sqlite:///{home / DEFAULT_DATABASE_FILE} for writing"
    with pytest.raises(SettingsError, match=re.escape(message)):
        create_app(Settings(home=home, passphrase=SecretStr(PASSPHRASE)))
    _set_read_only(data_directory, False)
    with _in_process(home) as client:
        audit_served_log(client, signed, [])
        assert _sign(client, key, "After.\n").status_code == 200
    assert audit_database(_database_url(home), origin_of(signed), signed) == SIGNED_FIRST + 1


def _query_only(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA query_only=ON")


def test_database_turning_read_only_at_runtime_gives_503_and_reads_go_on(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    url = _database_url(home)
    key = sign_key(url)
    auth = {"Authorization": f"Bearer {key}"}
    with _in_process(home) as client:
        engine = client.app.state.service.engine  # type: ignore[attr-defined]
        first = client.post("/v1/sign", json=sign_body(content="Before.\n"), headers=auth)
        assert first.status_code == 200, first.text
        event.listen(engine, "connect", _query_only)
        engine.dispose()
        refused = client.post("/v1/sign", json=sign_body(content="Read-only.\n"), headers=auth)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "database.read_only"
        assert client.get("/v1/log/checkpoint").status_code == 200
        index = first.json()["logIndex"]
        assert client.get("/v1/log/proofs/inclusion", params={"index": index}).status_code == 200
        event.remove(engine, "connect", _query_only)
        engine.dispose()
        after = client.post("/v1/sign", json=sign_body(content="Writable.\n"), headers=auth)
        assert after.status_code == 200, after.text
    acknowledged = [("", first.json()), ("", after.json())]
    assert audit_database(url, origin_of(acknowledged), acknowledged) == 2


def _fill(directory: Path) -> Path:
    """Write a file until the filesystem holding ``directory`` is full; return it."""
    filler = directory / "filler"
    with filler.open("wb") as sink:
        try:
            while True:
                sink.write(b"\0" * 65536)
                sink.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_full_disk_gives_503_disk_full_and_recovers_without_corruption(
    tmp_path: Path, small_filesystem: Path
) -> None:
    home = make_home(small_filesystem / "home")
    key = sign_key(_database_url(home))
    with running_server(home, log_dir=tmp_path) as server, _client(server) as client:
        signed = _sign_some(client, key, "Before")
        filler = _fill(small_filesystem)
        more, error = _sign_until_refused(client, key)
        assert error["code"] == "database.disk_full"
        assert client.get("/v1/log/checkpoint").status_code == 200
        filler.unlink()
        after = _sign(client, key, "After.\n")
        assert after.status_code == 200, after.text
        acknowledged = [*signed, *more, ("After.\n", after.json())]
        audit_served_log(client, acknowledged, [])
        assert server_errors(server.log_text()) == []
    size = audit_database(_database_url(home), origin_of(acknowledged), acknowledged)
    assert size == len(acknowledged)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_gives_503_and_no_corruption(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    url = _database_url(home)
    key = sign_key(url)
    with _in_process(home) as client:
        signed = _sign_some(client, key, "Warm-up")
    largest = max(path.stat().st_size for path in home.iterdir() if path.is_file())
    limited = running_server(home, preexec=_file_size_limit(largest + FILE_SIZE_MARGIN))
    with limited as server, _client(server) as client:
        more, error = _sign_until_refused(client, key)
        assert error["code"] in WRITE_REFUSED
        assert client.get("/v1/log/checkpoint").status_code == 200
        assert server_errors(server.log_text()) == []
    acknowledged = [*signed, *more]
    with _in_process(home) as client:
        audit_served_log(client, acknowledged, [])
        after = _sign(client, key, "After.\n")
        assert after.status_code == 200, after.text
    assert audit_database(url, origin_of(acknowledged), acknowledged) == len(acknowledged) + 1
