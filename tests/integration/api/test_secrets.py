"""No secret leaks: logs and error bodies carry no key material, passphrase or API key.

The material searched for is the real material of the test home: the passphrase, every private
key of the home (PEM headers, and the raw P-256 scalar and Ed25519 seed in hex and base64) and the
full API keys with their secret parts. Key files are 0600, encrypted, and useless without their
passphrase; API key secrets are compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select
from sqlmodel import SQLModel

from provenance.errors import KeyFormatError, PassphraseRequiredError
from provenance.identity import create_csr
from provenance.keys import (
    Ed25519SigningKey,
    KeyType,
    P256SigningKey,
    SigningKey,
    generate_key,
    load_private_key,
)
from tests.faults.support import running_server
from tests.integration.api.conftest import Api
from tests.integration.api.support import BASE_URL, PASSPHRASE, REVIEW, TAMPERED, sign_body
from verifier_api import crud
from verifier_api.scopes import Scope
from verifier_api.service import utc_now
from verifier_api.settings import Settings

PEM_PRIVATE_MARKER = "PRIVATE KEY-----"
WRONG_PASSPHRASE = "a wrong but long passphrase"


def key_files(home: Path) -> list[Path]:
    """Every private key file of a publisher home."""
    return sorted(home.rglob("*.key"))


def _raw_private_bytes(key: SigningKey) -> bytes:
    private = key.to_cryptography()
    if isinstance(key, Ed25519SigningKey):
        return private.private_bytes_raw()  # type: ignore[union-attr]
    assert isinstance(key, P256SigningKey)
    return private.private_numbers().private_value.to_bytes(32, "big")  # type: ignore[union-attr]


def _pkcs8_base64_through(key: SigningKey, raw: bytes) -> str:
    """The base64 of the unencrypted PKCS#8 key up to its private bytes (what a leaked PEM shows;
    the public key after them is public, so it is left out)."""
    der = key.to_cryptography().private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    end = der.index(raw) + len(raw)
    return base64.b64encode(der[: end - end % 3]).decode()


def _encodings(raw: bytes) -> list[str]:
    return [
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


def secret_material(home: Path, api_keys: Iterable[str] = ()) -> list[str]:
    """Strings that must never appear in a log or an answer."""
    material = [PASSPHRASE, WRONG_PASSPHRASE, PEM_PRIVATE_MARKER]
    for path in key_files(home):
        key = load_private_key(path.read_bytes(), PASSPHRASE.encode())
        raw = _raw_private_bytes(key)
        material += [*_encodings(raw), _pkcs8_base64_through(key, raw)]
    for full in api_keys:
        material += [full, full.rsplit("_", 1)[1]]
    return material


def assert_no_secret(text: str, material: list[str], where: str) -> None:
    """Fail naming the kind of secret found in ``text`` (never printing the secret)."""
    for position, secret in enumerate(material):
        assert secret not in text, f"secret #{position} of the material leaked into {where}"


def _exercise(client: httpx.Client | Any, keys: dict[str, str]) -> list[str]:
    """Sign, verify, fail auth in every way, issue and revoke; return every answer's text."""
    auth = {scope: {"Authorization": f"Bearer {key}"} for scope, key in keys.items()}
    key_id = keys["sign"].split("_")[1]
    answers = []
    signed = client.post("/v1/sign", json=sign_body(), headers=auth["sign"])
    answers.append(signed.text)
    bundle = signed.json()["bundle"]
    for content in (REVIEW, TAMPERED):
        check = {"content": content, "bundle": bundle}
        answers.append(client.post("/v1/verify", json=check, headers=auth["verify"]).text)
    wrong_secret = {"Authorization": f"Bearer prov_{key_id}_{'0' * 64}"}
    for headers in ({}, {"Authorization": "Bearer prov_x"}, wrong_secret, auth["revoked"]):
        answers.append(client.post("/v1/sign", json=sign_body(), headers=headers).text)
    answers.append(client.post("/v1/sign", json=sign_body(), headers=auth["verify"]).text)
    answers.append(client.post("/v1/sign", content=b"{not json", headers=auth["sign"]).text)
    csr = create_csr(generate_key(KeyType.P256), "https://ignored.example/x").decode()
    issue = {"csr": csr, "identity": f"{BASE_URL}/u/77"}
    issued = client.post("/v1/certificates", json=issue, headers=auth["admin"])
    answers.append(issued.text)
    revoke = {"serialNumber": issued.json()["serialNumber"], "reason": "keyCompromise"}
    for _ in range(2):  # the second is a 409
        answers.append(client.post("/v1/revocations", json=revoke, headers=auth["admin"]).text)
    return answers


def _api_keys(api: Api) -> dict[str, str]:
    return {
        "sign": api.keys.sign,
        "verify": api.keys.verify,
        "admin": api.keys.admin,
        "revoked": api.keys.revoked,
    }


def test_logs_and_error_bodies_carry_no_key_material(
    api: Api, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = _api_keys(api)
    material = secret_material(home, keys.values())
    with caplog.at_level(logging.DEBUG):
        answers = _exercise(api.client, keys)
        _, created = crud.create_api_key(api.service.engine, "new", Scope.SIGN, now=utc_now())
    assert_no_secret("\n".join(answers), [*material, created], "an answer")
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert_no_secret(logged, [*material, created], "the log")


def test_server_process_output_carries_no_key_material(tmp_path: Path, home: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    keys = _keys_in(url)
    material = secret_material(home, keys.values())
    with running_server(home, url, log_dir=tmp_path) as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            answers = _exercise(client, keys)
        output = server.log_text()
    assert_no_secret("\n".join(answers), material, "an answer")
    assert_no_secret(output, material, "the server's output")


def _keys_in(database_url: str) -> dict[str, str]:
    from verifier_api.db import make_engine  # noqa: PLC0415
    from verifier_api.migrations import upgrade_database  # noqa: PLC0415

    engine = make_engine(database_url)
    upgrade_database(engine)
    now = utc_now()
    keys = {
        scope.value: crud.create_api_key(engine, "t", scope, now=now)[1]
        for scope in (Scope.SIGN, Scope.VERIFY, Scope.ADMIN)
    }
    row, keys["revoked"] = crud.create_api_key(engine, "old", Scope.ADMIN, now=now)
    crud.revoke_api_key(engine, row.id, now=now)
    engine.dispose()
    return keys


def test_start_with_a_wrong_passphrase_reports_no_secret(tmp_path: Path, home: Path) -> None:
    from verifier_api.app import create_app  # noqa: PLC0415
    from verifier_api.settings import SettingsError  # noqa: PLC0415

    settings = Settings(
        home=home,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        passphrase=WRONG_PASSPHRASE,  # type: ignore[arg-type]
    )
    assert WRONG_PASSPHRASE not in repr(settings) + str(settings)
    with pytest.raises(SettingsError) as refused:
        create_app(settings)
    assert_no_secret(str(refused.value), secret_material(home), "the start-up error")


def _stored_text(api: Api) -> str:
    """Every row of every table (and, on SQLite, the database files' bytes) as text."""
    engine = api.service.engine
    with engine.connect() as connection:
        rows = [repr(connection.execute(select(t)).all()) for t in SQLModel.metadata.sorted_tables]
    if engine.url.drivername.startswith("sqlite") and engine.url.database:
        stored = Path(engine.url.database)
        rows += [p.read_bytes().decode("latin-1") for p in stored.parent.glob(stored.name + "*")]
    return "\n".join(rows)


def test_database_stores_no_api_key_secret_or_key_material(api: Api, home: Path) -> None:
    keys = _api_keys(api)
    _exercise(api.client, keys)
    assert_no_secret(_stored_text(api), secret_material(home, keys.values()), "the database")


def test_the_scan_finds_each_kind_of_secret(home: Path) -> None:
    key = load_private_key((home / "service.key").read_bytes(), PASSPHRASE.encode())
    raw = _raw_private_bytes(key)
    api_key = "prov_0123456789ab_" + "f" * 64
    material = secret_material(home, [api_key])
    unencrypted_pem = key.to_pem().decode()
    for leak in (raw.hex(), base64.b64encode(raw).decode(), unencrypted_pem, api_key, PASSPHRASE):
        with pytest.raises(AssertionError, match="leaked into the probe"):
            assert_no_secret(f"before {leak} after", material, "the probe")
    pem_body = "".join(unencrypted_pem.splitlines()[1:-1])
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_secret(pem_body, material, "the probe")


def test_key_files_are_0600_encrypted_and_unreadable_without_the_passphrase(home: Path) -> None:
    files = key_files(home)
    assert {path.name for path in files} >= {"service.key", "log.key", "root.key", "issuing.key"}
    assert home.stat().st_mode & 0o777 == 0o700
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
        pem = path.read_bytes()
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"), path
        with pytest.raises(PassphraseRequiredError):
            load_private_key(pem)
        with pytest.raises(KeyFormatError, match="wrong passphrase"):
            load_private_key(pem, WRONG_PASSPHRASE.encode())


def test_api_key_secrets_are_compared_in_constant_time(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("verifier_api.crud.hmac.compare_digest", spy)
    key_id = api.keys.sign.split("_")[1]
    wrong = f"prov_{key_id}_{'0' * 64}"
    assert crud.authenticate(api.service.engine, api.keys.sign) is not None
    assert crud.authenticate(api.service.engine, wrong) is None
    answer = api.client.post(
        "/v1/sign", json=sign_body(), headers={"Authorization": f"Bearer {wrong}"}
    )
    assert answer.status_code == 401
    assert len(calls) == 3
    assert all(len(a) == len(b) == 64 for a, b in calls)
