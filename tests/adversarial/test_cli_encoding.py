"""Input the output encoder cannot write: a lone surrogate in an unsigned bundle field, or a file
name that is not UTF-8. `prov verify` must still print its verdict (JSON or human), never a
traceback, and exit with the verdict's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.display import printable
from provenance.encoding import dumps_text

REVIEW = "The desk lamp is sturdy and bright.\nFive stars.\n"
PASSPHRASE = "correct horse battery"
TIMEOUT_SECONDS = 60


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """A review, its bundle (FILE.prov.json) and the author's public key."""
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    key = tmp_path / "author.key"
    assert runner.invoke(app, ["key", "generate", "--out", str(key)]).exit_code == 0
    review = tmp_path / "review.txt"
    review.write_text(REVIEW)
    assert runner.invoke(app, ["sign", str(review), "--key", str(key), "--text"]).exit_code == 0
    return review, tmp_path / "author.key.pub"


def _prov(*args: str | Path | bytes) -> subprocess.CompletedProcess[bytes]:
    """Run `prov` in a child whose stdout is a pipe (its encoding is strict UTF-8)."""
    env = {**os.environ, "PROVENANCE_PASSPHRASE": PASSPHRASE, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "cli", *[os.fsencode(a) for a in args]],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def _set_keyid(bundle: Path, keyid: str) -> None:
    document = json.loads(bundle.read_text())
    document["dsseEnvelope"]["signatures"][0]["keyid"] = keyid
    bundle.write_text(json.dumps(document))  # ensure_ascii: the surrogate travels as \ud800


@pytest.mark.parametrize("as_json", [True, False])
def test_verify_of_a_bundle_with_a_lone_surrogate_keyid_prints_its_verdict(
    signed: tuple[Path, Path], as_json: bool
) -> None:
    review, public = signed
    _set_keyid(review.with_name("review.txt.prov.json"), "\ud800")
    result = _prov("verify", review, "--key", public, *(["--json"] if as_json else []))
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.returncode == 1
    if as_json:
        document = json.loads(result.stdout)
        assert [f["code"] for f in document["findings"] if not f["ok"]] == ["bundle.malformed"]
    else:
        assert b"NOT VERIFIED" in result.stderr
        assert b"bundle.malformed" in result.stderr


@pytest.mark.parametrize("as_json", [True, False])
def test_verify_of_a_file_whose_name_is_not_utf8_prints_its_verdict(
    signed: tuple[Path, Path], as_json: bool
) -> None:
    review, public = signed
    odd = review.parent / os.fsdecode(b"review-\xff.txt")
    review.rename(odd)
    review.with_name("review.txt.prov.json").rename(odd.with_name(odd.name + ".prov.json"))
    result = _prov("verify", odd, "--key", public, *(["--json"] if as_json else []))
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.returncode == 0, result.stderr.decode()
    if as_json:
        assert json.loads(result.stdout)["verified"] is True
    else:
        assert b"VERIFIED" in result.stderr
        assert b"\\udcff" in result.stderr


def test_printable_shows_a_lone_surrogate_as_an_escape() -> None:
    shown = printable("name-\udcff-\ud800")
    assert shown == "name-\\udcff-\\ud800"
    assert shown.encode("utf-8")


def test_json_text_escapes_a_lone_surrogate_and_parses_back() -> None:
    document = {"file": "review-\udcff.txt", "note": "café"}
    text = dumps_text(document, indent=2)
    assert "café" in text
    assert json.loads(text.encode("utf-8")) == document
