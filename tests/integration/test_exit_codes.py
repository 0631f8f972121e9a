"""Exit codes follow the README's table: a reader that goes away does not change a verdict's code,
and a bundle `prov inspect` cannot read is unreadable input (3), not a failed verification (1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

REVIEW = "The desk lamp is sturdy and bright.\nFive stars.\n"
PASSPHRASE = "correct horse battery"
TIMEOUT_SECONDS = 60


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """A review signed under text-v1 (FILE.prov.json) and the author's public key."""
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    key = tmp_path / "author.key"
    assert runner.invoke(app, ["key", "generate", "--out", str(key)]).exit_code == 0
    review = tmp_path / "review.txt"
    review.write_text(REVIEW)
    assert runner.invoke(app, ["sign", str(review), "--key", str(key), "--text"]).exit_code == 0
    return review, tmp_path / "author.key.pub"


def _prov_into_a_closed_pipe(stream: str, *args: str | Path) -> tuple[int, bytes]:
    """Run `prov` with ``stream`` (stdout or stderr) a pipe whose reader is already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    other = subprocess.PIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cli", *[str(a) for a in args]],
            env={**os.environ, "PROVENANCE_PASSPHRASE": PASSPHRASE},
            stdin=subprocess.DEVNULL,
            stdout=writer if stream == "stdout" else other,
            stderr=writer if stream == "stderr" else other,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        os.close(writer)
    return result.returncode, (result.stderr if stream == "stdout" else result.stdout) or b""


@pytest.mark.parametrize(("stream", "extra"), [("stdout", ["--json"]), ("stderr", [])])
@pytest.mark.parametrize(("tampered", "code"), [(False, 0), (True, 1)])
def test_a_closed_pipe_keeps_the_verdicts_exit_code(
    signed: tuple[Path, Path], stream: str, extra: list[str], tampered: bool, code: int
) -> None:
    review, public = signed
    if tampered:
        review.write_text(REVIEW.replace("Five", "Four"))
    exit_code, other = _prov_into_a_closed_pipe(stream, "verify", review, "--key", public, *extra)
    assert exit_code == code, other.decode()
    assert b"Traceback" not in other
    assert b"Exception ignored" not in other


@pytest.mark.parametrize("content", [b"garbage", b"{}", b"\xff\xfe", b""])
@pytest.mark.parametrize("as_json", [False, True])
def test_inspect_of_an_unreadable_bundle_exits_3(
    tmp_path: Path, content: bytes, as_json: bool
) -> None:
    bundle = tmp_path / "b.prov.json"
    bundle.write_bytes(content)
    result = CliRunner().invoke(app, ["inspect", str(bundle), *(["--json"] if as_json else [])])
    assert result.exit_code == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
