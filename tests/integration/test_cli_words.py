"""What `prov` says to a person: version, plain help, flags not classes, true/false, steps."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography import x509
from rich.console import Console
from typer.testing import CliRunner

import provenance
from cli.main import app
from cli.sign_checks import PROGRESS_MIN_BYTES, certificate_warnings, reading_with_progress
from provenance.identity.crl import build_crl, revoke
from provenance.present import long_date
from provenance.text import Canonicalization, content_sha256
from tests.factories import NOW, authority_trust, certified_author, make_authority

REVIEW = "The desk lamp is sturdy and bright.\nFive stars.\n"
IDENTITY = "https://reviews.example/u/8841"
PYTHON_TYPES = re.compile(r"<(bool|str|int|float|path|list\[[a-z]+\])>", re.IGNORECASE)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "correct horse battery")
    return CliRunner()


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


@pytest.fixture
def certified(runner: CliRunner, tmp_path: Path) -> tuple[Path, Path]:
    """A review signed with a certificate for IDENTITY, and the authority's trust root."""
    ca, key, csr, chain, trust = (tmp_path / n for n in ("ca", "a.key", "a.csr", "a.pem", "t.json"))
    for args in (
        ("ca", "init", "--out", ca, "--name", "Reviews Example"),
        ("key", "generate", "--out", key),
        ("key", "csr", "--key", key, "--identity", IDENTITY, "--out", csr),
        ("ca", "issue", "--ca", ca, "--csr", csr, "--identity", IDENTITY, "--out", chain),
        ("ca", "export-trust", "--ca", ca, "--out", trust),
    ):
        assert _prov(runner, *args)[0] == 0, args
    review = tmp_path / "review.txt"
    review.write_text(REVIEW)
    sign = (
        "sign",
        review,
        "--key",
        key,
        "--cert",
        chain,
        "--text",
        "--claim",
        "verifiedPurchase=true",
    )
    assert _prov(runner, *sign)[0] == 0
    return review, trust


def test_version_prints_the_package_version(runner: CliRunner) -> None:
    assert _prov(runner, "--version") == (0, f"prov {provenance.__version__}\n", "")


def test_help_of_every_command_shows_no_python_type_names(runner: CliRunner) -> None:
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) > 20
    for path in paths:
        code, out, _ = _prov(runner, *path, "--help")
        assert code == 0, path
        assert not PYTHON_TYPES.search(out), (path, PYTHON_TYPES.findall(out))
    _, out, _ = _prov(runner, "verify", "--help")
    assert re.search(r"--key\s+PATH", out) and re.search(r"--identity\s+TEXT", out)


def test_missing_identity_names_the_flags_not_a_library_class(
    runner: CliRunner, certified: tuple[Path, Path]
) -> None:
    review, trust = certified
    code, _, err = _prov(runner, "verify", review, "--trust", trust)
    assert code == 1
    assert "--unsafe-any-identity" in err and "--identity" in err
    assert "UnsafeAcceptAnyIdentity" not in err
    assert err.splitlines()[0].endswith(
        "say whose signature you expect. (policy.identity.required)"
    )


def test_claim_values_print_as_json_true_and_false(
    runner: CliRunner, certified: tuple[Path, Path]
) -> None:
    review, trust = certified
    args = ("verify", review, "--trust", trust, "--identity", IDENTITY)
    code, _, err = _prov(runner, *args, "--require-claim", "verifiedPurchase=false")
    assert code == 1
    assert "must be false; actual true" in re.sub(r"[\s│]+", " ", err)
    assert "True" not in err and "False" not in err


def test_verify_with_a_key_reports_skipped_steps_as_skipped(
    runner: CliRunner, tmp_path: Path
) -> None:
    key, review = tmp_path / "a.key", tmp_path / "review.txt"
    review.write_text(REVIEW)
    assert _prov(runner, "key", "generate", "--out", key)[0] == 0
    assert _prov(runner, "sign", review, "--key", key, "--text")[0] == 0
    code, _, err = _prov(runner, "verify", review, "--key", tmp_path / "a.key.pub")
    assert code == 0
    assert err.splitlines()[0] == (
        f"VERIFIED: {review}: Signed by a.key.pub, a key trusted directly by you (--key)."
    )
    passed = next(line for line in err.splitlines() if "checks passed" in line)
    assert {"log.ok", "certificate.ok", "revocation.ok"}.isdisjoint(passed.split())
    assert "skipped log" in err and "skipped certificate" in err and "skipped revocation" in err
    assert "trust root" not in err and "vouched for" not in err.lower()


def test_certificate_signed_review_shows_who_vouches(
    runner: CliRunner, certified: tuple[Path, Path]
) -> None:
    review, trust = certified
    code, _, err = _prov(runner, "verify", review, "--trust", trust, "--identity", IDENTITY)
    assert code == 0
    assert err.splitlines()[0] == (
        f"VERIFIED: {review}: Signed by {IDENTITY}, vouched for by Reviews Example Issuing CA."
    )
    assert "skipped certificate" not in err and "certificate.ok" in err
    assert "skipped log" in err


def test_sign_warns_for_an_expired_certificate_and_a_revoked_one() -> None:
    authority = make_authority()
    expired = certified_author(authority, issued=NOW - timedelta(days=10), days=2)
    assert certificate_warnings(expired.chain, None, NOW) == [
        f"the certificate expired on {long_date(NOW - timedelta(days=8))} (certificate.expired)"
    ]
    current = certified_author(authority)
    trust = authority_trust(authority)
    assert certificate_warnings(current.chain, trust, NOW) == []
    revoke(authority, current.chain[0], reason=x509.ReasonFlags.key_compromise, now=NOW)
    revoked_trust = authority_trust(authority, crl=build_crl(authority, now=NOW))
    later = NOW + timedelta(hours=1)
    assert certificate_warnings(current.chain, revoked_trust, later) == [
        f"the signer's certificate was revoked on {long_date(NOW)} (certificate.revoked)"
    ]


def test_large_input_shows_progress_on_a_terminal_only() -> None:
    size = PROGRESS_MIN_BYTES + 1
    shown = io.StringIO()
    terminal = Console(file=shown, force_terminal=True, width=100)
    with reading_with_progress(io.BytesIO(b"x" * size), size, terminal, "signing big.txt") as read:
        assert (
            content_sha256(read, Canonicalization.NONE) == hashlib.sha256(b"x" * size).hexdigest()
        )
    assert "signing big.txt" in shown.getvalue()
    quiet = io.StringIO()
    plain = Console(file=quiet, force_terminal=False)
    stream = io.BytesIO(b"x" * size)
    with reading_with_progress(stream, size, plain, "signing big.txt") as read:
        assert read is stream
    assert quiet.getvalue() == ""
