"""The `prov` contract as users and scripts rely on it: files, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

REVIEW = "The desk lamp is sturdy and bright.\nFive stars, would buy again.\n"
IDENTITY = "https://reviews.example/u/8841"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "correct horse battery")
    return CliRunner()


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def signed(runner: CliRunner, tmp_path: Path) -> Path:
    key = tmp_path / "author.key"
    assert _prov(runner, "key", "generate", "--out", key)[0] == 0
    review = tmp_path / "review.txt"
    review.write_text(REVIEW)
    code, _, err = _prov(
        runner, "sign", review, "--key", key, "--text", "--claim", "verifiedPurchase=true"
    )
    assert code == 0, err
    return review


def test_key_generate_writes_0600_encrypted_key_and_public_pem(
    runner: CliRunner, tmp_path: Path
) -> None:
    code, _, _ = _prov(runner, "key", "generate", "--out", tmp_path / "k", "--type", "ed25519")
    assert code == 0
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "k").read_bytes()
    assert (tmp_path / "k.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_key_generate_without_passphrase_source_refuses(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_PASSPHRASE"}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "key", "generate", "--out", str(tmp_path / "k")],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--unencrypted" in result.stderr
    assert not (tmp_path / "k").exists()


def test_key_generate_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "k").write_text("precious")
    code, _, err = _prov(runner, "key", "generate", "--out", tmp_path / "k")
    assert code == 3
    assert "exists already" in err
    assert (tmp_path / "k").read_text() == "precious"


def test_sign_writes_sidecar_bundle_and_verify_exits_0(runner: CliRunner, signed: Path) -> None:
    assert signed.with_name("review.txt.prov.json").exists()
    code, out, err = _prov(runner, "verify", signed, "--key", signed.with_name("author.key.pub"))
    assert code == 0
    assert out == ""
    assert err.splitlines()[0].startswith("VERIFIED:")


def test_verify_json_prints_only_json_on_stdout(runner: CliRunner, signed: Path) -> None:
    code, out, _ = _prov(
        runner, "verify", signed, "--key", signed.with_name("author.key.pub"), "--json"
    )
    assert code == 0
    document = json.loads(out)
    assert document["verified"] is True
    assert document["claims"] == {"verifiedPurchase": True}
    assert {f["code"] for f in document["findings"]} >= {"digest.ok", "signature.ok"}
    assert document["signer"]["identities"] == ["author.key.pub"]


def test_changed_word_exits_1_with_digest_mismatch(runner: CliRunner, signed: Path) -> None:
    signed.write_text(REVIEW.replace("Five", "Four"))
    code, out, err = _prov(
        runner, "verify", signed, "--key", signed.with_name("author.key.pub"), "--json"
    )
    assert code == 1
    document = json.loads(out)
    assert document["verified"] is False
    assert [f["code"] for f in document["findings"] if not f["ok"]] == ["digest.mismatch"]
    code, _, err = _prov(runner, "verify", signed, "--key", signed.with_name("author.key.pub"))
    assert err.splitlines()[0].startswith("NOT VERIFIED:") and "digest.mismatch" in err


def test_missing_bundle_exits_3(runner: CliRunner, tmp_path: Path, signed: Path) -> None:
    code, _, err = _prov(
        runner,
        "verify",
        signed,
        "--key",
        signed.with_name("author.key.pub"),
        "--bundle",
        tmp_path / "none.json",
    )
    assert code == 3
    assert "cannot read bundle" in err


def test_both_key_and_trust_is_a_usage_error(runner: CliRunner, signed: Path) -> None:
    pub = signed.with_name("author.key.pub")
    assert _prov(runner, "verify", signed, "--key", pub, "--trust", pub)[0] == 2
    assert _prov(runner, "verify", signed)[0] == 2


def test_malformed_bundle_exits_1_with_code(runner: CliRunner, signed: Path) -> None:
    signed.with_name("review.txt.prov.json").write_text("{}")
    code, out, _ = _prov(
        runner, "verify", signed, "--key", signed.with_name("author.key.pub"), "--json"
    )
    assert code == 1
    assert json.loads(out)["findings"][0]["code"] == "bundle.malformed"


def test_inspect_says_it_trusts_nothing(runner: CliRunner, signed: Path) -> None:
    code, out, err = _prov(runner, "inspect", signed.with_name("review.txt.prov.json"))
    assert code == 0
    assert "UNVERIFIED" in err
    code, out, _ = _prov(runner, "inspect", signed.with_name("review.txt.prov.json"), "--json")
    assert json.loads(out)["unverified"] is True


def test_authority_flow_issues_asserted_identity_and_verifies(
    runner: CliRunner, tmp_path: Path
) -> None:
    ca, key, csr, chain, trust = (
        tmp_path / n for n in ("ca", "a.key", "a.csr", "a.pem", "trust.json")
    )
    assert _prov(runner, "ca", "init", "--out", ca, "--name", "Reviews Example")[0] == 0
    assert _prov(runner, "key", "generate", "--out", key)[0] == 0
    assert (
        _prov(
            runner,
            "key",
            "csr",
            "--key",
            key,
            "--identity",
            "https://evil.example/admin",
            "--out",
            csr,
        )[0]
        == 0
    )
    assert (
        _prov(
            runner, "ca", "issue", "--ca", ca, "--csr", csr, "--identity", IDENTITY, "--out", chain
        )[0]
        == 0
    )
    assert _prov(runner, "ca", "export-trust", "--ca", ca, "--out", trust)[0] == 0
    review = tmp_path / "review.txt"
    review.write_text(REVIEW)
    assert _prov(runner, "sign", review, "--key", key, "--cert", chain, "--text")[0] == 0

    code, out, _ = _prov(
        runner, "verify", review, "--trust", trust, "--identity", IDENTITY, "--json"
    )
    assert code == 0, out
    assert json.loads(out)["signer"]["identities"] == [IDENTITY]
    code, out, _ = _prov(
        runner,
        "verify",
        review,
        "--trust",
        trust,
        "--identity",
        "https://evil.example/admin",
        "--json",
    )
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == [
        "policy.identity.mismatch"
    ]
    code, out, _ = _prov(runner, "verify", review, "--trust", trust, "--json")
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == [
        "policy.identity.required"
    ]

    assert (
        _prov(runner, "ca", "revoke", "--ca", ca, "--cert", chain, "--reason", "keyCompromise")[0]
        == 0
    )
    trust.unlink()
    assert _prov(runner, "ca", "export-trust", "--ca", ca, "--out", trust)[0] == 0
    code, out, _ = _prov(
        runner, "verify", review, "--trust", trust, "--identity", IDENTITY, "--json"
    )
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == [
        "certificate.revoked"
    ]


def test_bad_identity_regex_is_a_usage_error(runner: CliRunner, signed: Path) -> None:
    pub = signed.with_name("author.key.pub")
    code, _, err = _prov(runner, "verify", signed, "--key", pub, "--identity-regex", "(")
    assert code == 2
    assert "not a regular expression" in err


def _failure_codes(out: str) -> list[str]:
    return [f["code"] for f in json.loads(out)["findings"] if not f["ok"]]


def test_bad_policy_options_exit_2_naming_policy_malformed(
    runner: CliRunner, signed: Path, tmp_path: Path
) -> None:
    pub = signed.with_name("author.key.pub")
    bad_file = tmp_path / "policy.json"
    bad_file.write_text('{"anyOf": []}')
    for option in (
        ["--identity-regex", "("],
        ["--require-claim", "n=1.5"],
        ["--policy", str(bad_file)],
    ):
        code, _, err = _prov(runner, "verify", signed, "--key", pub, *option)
        assert code == 2, option
        assert "policy.malformed" in err, option


def test_policy_file_reaches_any_of(runner: CliRunner, signed: Path, tmp_path: Path) -> None:
    pub = signed.with_name("author.key.pub")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"anyOf": [{"identity": "nobody"}, {"identity": pub.name}]}))
    code, _, err = _prov(runner, "verify", signed, "--key", pub, "--policy", policy)
    assert code == 0, err
    policy.write_text(json.dumps({"anyOf": [{"identity": "nobody"}, {"identity": "no one"}]}))
    code, out, _ = _prov(runner, "verify", signed, "--key", pub, "--policy", policy, "--json")
    assert (code, _failure_codes(out)) == (1, ["policy.identity.mismatch"])


def test_max_age_option_fails_closed_without_a_log(runner: CliRunner, signed: Path) -> None:
    pub = signed.with_name("author.key.pub")
    code, out, _ = _prov(runner, "verify", signed, "--key", pub, "--max-age", "3600", "--json")
    assert (code, _failure_codes(out)) == (1, ["policy.age.unproven"])


def test_require_claim_value_is_typed(runner: CliRunner, signed: Path) -> None:
    pub = signed.with_name("author.key.pub")
    code, _, err = _prov(
        runner, "verify", signed, "--key", pub, "--require-claim", "verifiedPurchase=true"
    )
    assert code == 0, err
    quoted = 'verifiedPurchase="true"'
    code, out, _ = _prov(
        runner, "verify", signed, "--key", pub, "--require-claim", quoted, "--json"
    )
    assert (code, _failure_codes(out)) == (1, ["policy.claim.mismatch"])
