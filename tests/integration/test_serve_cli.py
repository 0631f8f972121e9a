"""`prov serve` and its key commands refuse an unusable home in one line with the right reason
and exit code (2: what the user must give; 3: what cannot be read), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.integration.api.support import PASSPHRASE, make_home

PASSPHRASE_VARIABLES = ("PROVENANCE_PASSPHRASE", "PROVENANCE_PASSPHRASE_FILE")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_home(tmp_path_factory.mktemp("publisher") / "home")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for variable in (*PASSPHRASE_VARIABLES, "PROVENANCE_HOME", "PROVENANCE_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    return CliRunner()


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, list[str]]:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr.strip().splitlines()


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--home"],
        ["serve", "create-key", "--scope", "verify", "--home"],
        ["serve", "list-keys", "--home"],
        ["serve", "revoke-key", "abc", "--home"],
    ],
)
def test_missing_home_is_named_in_one_line_exit_3(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    missing = tmp_path / "no-such-home"
    code, lines = _prov(runner, *command, missing)
    assert code == 3, lines
    assert len(lines) == 1, lines
    assert "not a publisher home" in lines[0]
    assert "passphrase" not in lines[0].lower()
    assert not missing.exists()


def test_serve_without_a_passphrase_says_so_in_one_line_exit_2(
    runner: CliRunner, home: Path
) -> None:
    code, lines = _prov(runner, "serve", "--home", home)
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert "PROVENANCE_PASSPHRASE" in lines[0]


def test_serve_with_a_wrong_passphrase_says_so_in_one_line_exit_3(
    runner: CliRunner, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "a wrong but long passphrase")
    code, lines = _prov(runner, "serve", "--home", home)
    assert code == 3, lines
    assert len(lines) == 1, lines
    assert "wrong passphrase" in lines[0]
    assert "a wrong but long passphrase" not in lines[0]


def test_serve_with_a_placeholder_passphrase_says_so_in_one_line_exit_2(
    runner: CliRunner, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "changeme")
    code, lines = _prov(runner, "serve", "--home", home)
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert "PROVENANCE_PASSPHRASE" in lines[0]
