"""Secrets in the library and the CLI: key files 0600 whatever the umask, private keys unreadable
without their passphrase, no key material or passphrase in any output or error, and no secret
compared with a short-circuiting ``==``."""

from __future__ import annotations

import ast
import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.errors import KeyFormatError, PassphraseRequiredError
from provenance.keys import load_private_key

PASSPHRASE = "correct horse battery staple 8841"
REPO = Path(__file__).resolve().parents[2]
SECRET_NAME_PARTS = ("passphrase", "password", "secret", "token", "api_key", "apikey")
# Each allowed comparison with the reason it leaks nothing.
ALLOWED_SECRET_COMPARISONS = {
    # The confirmation prompt compares two strings the same local user just typed.
    ("cli/common.py", "first"),
}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    return CliRunner()


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout + result.stderr


def _made_keys(runner: CliRunner, home: Path) -> tuple[list[Path], str]:
    """Create a key, an authority and a log; return their private key files and all output."""
    outputs = [
        _prov(runner, "key", "generate", "--out", home / "author.key"),
        _prov(runner, "ca", "init", "--out", home / "ca", "--name", "Reviews Example"),
        _prov(runner, "log", "init", "--out", home / "log", "--origin", "reviews.example/log"),
    ]
    assert all(code == 0 for code, _ in outputs), outputs
    keys = [home / "author.key", *sorted((home / "ca").glob("*.key")), home / "log" / "log.key"]
    assert all(key.exists() for key in keys), keys
    return keys, "".join(output for _, output in outputs)


def _material(pem: bytes) -> list[str]:
    """Strings that would betray a private key: the PEM body lines and its base64 body."""
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    lines = [line.decode() for line in pem.splitlines() if line and not line.startswith(b"-----")]
    return [*lines, base64.b64encode(base64.b64decode(body)).decode()[:40]]


def test_every_private_key_file_is_0600_even_with_an_open_umask(
    runner: CliRunner, tmp_path: Path, open_umask: None
) -> None:
    keys, _ = _made_keys(runner, tmp_path)
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_public_outputs_are_0644_and_private_keys_0600(
    runner: CliRunner, tmp_path: Path, umask: int
) -> None:
    previous = os.umask(umask)
    try:
        keys, _ = _made_keys(runner, tmp_path)
        public = _made_public_outputs(runner, tmp_path)
    finally:
        os.umask(previous)
    for path in public:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def _made_public_outputs(runner: CliRunner, home: Path) -> list[Path]:
    """A CSR, its certificate chain, a CRL, a trust root, a bundle and clear-signed text."""
    identity = "https://reviews.example/u/8841"
    review = home / "review.txt"
    review.write_text("Five stars.\n")
    outputs = [
        _prov(runner, "key", "csr", "--key", home / "author.key", "--identity", identity,
              "--out", home / "author.csr"),
        _prov(runner, "ca", "issue", "--ca", home / "ca", "--csr", home / "author.csr",
              "--identity", identity, "--out", home / "author.chain.pem"),
        _prov(runner, "ca", "crl", "--ca", home / "ca", "--out", home / "crl.pem"),
        _prov(runner, "ca", "export-trust", "--ca", home / "ca", "--out", home / "trust.json"),
        _prov(runner, "sign", review, "--key", home / "author.key",
              "--cert", home / "author.chain.pem"),
        _prov(runner, "sign", review, "--key", home / "author.key", "--armor"),
    ]  # fmt: skip
    assert all(code == 0 for code, _ in outputs), outputs
    names = ["author.csr", "author.chain.pem", "crl.pem", "trust.json", "review.txt.prov.json"]
    return [home / name for name in [*names, "review.txt.asc"]]


def test_every_private_key_needs_its_passphrase(runner: CliRunner, tmp_path: Path) -> None:
    keys, _ = _made_keys(runner, tmp_path)
    for key in keys:
        pem = key.read_bytes()
        assert b"ENCRYPTED PRIVATE KEY" in pem, key
        with pytest.raises(PassphraseRequiredError):
            load_private_key(pem)
        with pytest.raises(KeyFormatError):
            load_private_key(pem, b"wrong passphrase")
        assert load_private_key(pem, PASSPHRASE.encode()).public_key is not None


def test_no_key_material_or_passphrase_in_cli_output(runner: CliRunner, tmp_path: Path) -> None:
    keys, output = _made_keys(runner, tmp_path)
    review = tmp_path / "review.txt"
    review.write_text("Five stars.\n")
    code, signed = _prov(runner, "sign", review, "--key", tmp_path / "author.key")
    assert code == 0
    everything = output + signed
    assert PASSPHRASE not in everything
    assert "PRIVATE KEY" not in everything
    for key in keys:
        for fragment in _material(key.read_bytes()):
            assert fragment not in everything, key


def test_wrong_passphrase_error_shows_neither_passphrase_nor_key(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys, _ = _made_keys(runner, tmp_path)
    review = tmp_path / "review.txt"
    review.write_text("Five stars.\n")
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "not the passphrase at all")
    code, output = _prov(runner, "sign", review, "--key", keys[0])
    assert code == 3
    assert "not the passphrase at all" not in output
    assert PASSPHRASE not in output
    for fragment in _material(keys[0].read_bytes()):
        assert fragment not in output


def test_unreadable_key_file_error_does_not_echo_its_content(
    runner: CliRunner, tmp_path: Path
) -> None:
    key = tmp_path / "broken.key"
    secret_line = "c2VjcmV0LXNlZWQtbWF0ZXJpYWwtdGhhdC1tdXN0LW5vdC1sZWFr"
    key.write_text(f"-----BEGIN PRIVATE KEY-----\n{secret_line}\n-----END PRIVATE KEY-----\n")
    review = tmp_path / "review.txt"
    review.write_text("Five stars.\n")
    code, output = _prov(runner, "sign", review, "--key", key)
    assert code == 3
    assert secret_line not in output


def test_unencrypted_key_is_loaded_but_the_cli_asks_for_a_passphrase_for_encrypted_ones(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["key", "generate", "--out", str(tmp_path / "k"), "--unencrypted"]
        ).exit_code
        == 0
    )
    encrypted_runner = CliRunner(env={"PROVENANCE_PASSPHRASE": PASSPHRASE})
    assert (
        encrypted_runner.invoke(app, ["key", "generate", "--out", str(tmp_path / "e")]).exit_code
        == 0
    )
    review = tmp_path / "review.txt"
    review.write_text("Five stars.\n")
    bare = CliRunner(env={"PROVENANCE_PASSPHRASE": ""})
    result = bare.invoke(app, ["sign", str(review), "--key", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert "encrypted" in result.stderr


def _secret_comparisons(path: Path) -> Iterator[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            continue
        for operand in (node.left, *node.comparators):
            name = operand.id if isinstance(operand, ast.Name) else getattr(operand, "attr", "")
            lowered = name.lower()
            if any(part in lowered for part in SECRET_NAME_PARTS) or (
                isinstance(operand, ast.Name)
                and (path.relative_to(REPO).as_posix(), name) in ALLOWED_SECRET_COMPARISONS
            ):
                yield path.relative_to(REPO).as_posix(), name


def test_secrets_are_never_compared_with_equality_in_the_library_or_cli() -> None:
    sources = [*(REPO / "provenance").rglob("*.py"), *(REPO / "cli").rglob("*.py")]
    found = {hit for source in sources for hit in _secret_comparisons(source)}
    unexpected = found - ALLOWED_SECRET_COMPARISONS
    assert not unexpected, f"compare secrets with hmac.compare_digest: {sorted(unexpected)}"
