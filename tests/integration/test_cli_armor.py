"""`prov sign --armor` and `prov verify` on clear-signed text: files, exit codes, JSON, verdicts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.armor import ARMOR_BEGIN, BUNDLE_BEGIN

REVIEW = "The desk lamp is sturdy and bright.\n-- Dana\n"
IDENTITY = "https://reviews.example/u/8841"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "correct horse battery")
    return CliRunner()


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def key(runner: CliRunner, tmp_path: Path) -> Path:
    path = tmp_path / "author.key"
    assert _prov(runner, "key", "generate", "--out", path)[0] == 0
    return path


def _sign(runner: CliRunner, key: Path, text: str, *options: str) -> Path:
    review = key.with_name("review.txt")
    review.write_text(text)
    code, _, err = _prov(runner, "sign", "--armor", review, "--key", key, *options)
    assert code == 0, err
    return review.with_name("review.txt.asc")


@pytest.fixture
def armored(runner: CliRunner, key: Path) -> Path:
    return _sign(runner, key, REVIEW, "--claim", "verifiedPurchase=true")


def _verify_json(
    runner: CliRunner, file: Path, *options: str | Path
) -> tuple[int, dict[str, object]]:
    code, out, _ = _prov(runner, "verify", file, *options, "--json")
    return code, json.loads(out)


def _failures(document: dict[str, object]) -> list[str]:
    findings = document["findings"]
    assert isinstance(findings, list)
    return [f["code"] for f in findings if not f["ok"]]


def test_sign_armor_writes_asc_that_verifies_with_exit_0(
    runner: CliRunner, key: Path, armored: Path
) -> None:
    text = armored.read_text()
    assert text.startswith(ARMOR_BEGIN + "\nProfile: text-v1\n\nThe desk lamp")
    assert "\n- -- Dana\n" + BUNDLE_BEGIN in text
    assert not armored.with_name("review.txt.prov.json").exists()
    code, out, err = _prov(runner, "verify", armored, "--key", key.with_name("author.key.pub"))
    assert (code, out) == (0, "")
    assert err.splitlines()[0] == (
        f"VERIFIED: {armored}: Signed by author.key.pub, a key trusted directly by you (--key)."
    )
    assert "checks passed" in err and "armor.ok" in err


def test_verify_json_of_armor_keeps_top_level_contract(
    runner: CliRunner, key: Path, armored: Path
) -> None:
    code, document = _verify_json(runner, armored, "--key", key.with_name("author.key.pub"))
    assert code == 0
    assert document["verified"] is True and document["verdict"] == "verified"
    assert document["claims"] == {"verifiedPurchase": True}
    assert document["signer"] == document["blocks"][0]["signer"]  # type: ignore[index]
    assert document["blocks"][0]["lines"] == [1, len(armored.read_text().splitlines())]  # type: ignore[index]
    assert document["unsignedText"] == []
    assert _failures(document) == []


def test_copy_pasted_armor_still_verifies(runner: CliRunner, key: Path, armored: Path) -> None:
    pasted = armored.with_name("pasted.txt")
    pasted.write_bytes(armored.read_bytes().replace(b"\n", b"  \r\n") + b"\r\n")
    code, document = _verify_json(runner, pasted, "--key", key.with_name("author.key.pub"))
    assert (code, document["verdict"]) == (0, "verified")


def test_changed_word_exits_1_with_digest_mismatch(
    runner: CliRunner, key: Path, armored: Path
) -> None:
    armored.write_text(armored.read_text().replace("sturdy", "flimsy"))
    code, document = _verify_json(runner, armored, "--key", key.with_name("author.key.pub"))
    assert code == 1 and _failures(document) == ["digest.mismatch"]
    code, _, err = _prov(runner, "verify", armored, "--key", key.with_name("author.key.pub"))
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"NOT VERIFIED: {armored}, signed block at lines 1-")
    assert first.endswith(": This text was changed after it was signed. (digest.mismatch)")
    assert "FAILED digest" in err
    assert "What the signature says about the original text, not this one" in err


def test_text_around_the_block_is_partly_signed_and_exits_1(
    runner: CliRunner, key: Path, armored: Path
) -> None:
    quoted = armored.with_name("post.txt")
    quoted.write_text("VERIFIED: signed by the CEO\n" + armored.read_text() + "Ten stars!\n")
    code, document = _verify_json(runner, quoted, "--key", key.with_name("author.key.pub"))
    assert code == 1
    assert (document["verified"], document["verdict"]) == (False, "partly-signed")
    assert _failures(document) == ["armor.partly_signed"]
    unsigned = document["unsignedText"]
    assert isinstance(unsigned, list)
    assert [u["text"] for u in unsigned] == ["VERIFIED: signed by the CEO\n", "Ten stars!\n"]
    assert unsigned[0]["lines"] == [1, 1]
    code, _, err = _prov(runner, "verify", quoted, "--key", key.with_name("author.key.pub"))
    assert code == 1
    assert err.splitlines()[0] == (
        f"PARTLY SIGNED: {quoted}: Part of this text (line 1, line {unsigned[1]['lines'][0]}) "
        "is not covered by any "
        "signature: do not trust it. (armor.partly_signed)"
    )
    assert "UNSIGNED, line 1: no signature covers this text" in err
    assert "  │ VERIFIED: signed by the CEO" in err


def test_two_signed_blocks_are_both_reported(runner: CliRunner, key: Path, armored: Path) -> None:
    first = armored.read_text()
    second = _sign(runner, key, "Second review.\n").read_text()
    both = armored.with_name("both.txt")
    both.write_text(first + "\n" + second)
    code, document = _verify_json(runner, both, "--key", key.with_name("author.key.pub"))
    assert code == 0
    blocks = document["blocks"]
    assert isinstance(blocks, list) and [b["verified"] for b in blocks] == [True, True]
    assert document["signer"] is None
    code, _, err = _prov(runner, "verify", both, "--key", key.with_name("author.key.pub"))
    assert err.splitlines()[0] == (
        f"VERIFIED: {both}: 2 signed blocks, each verified; no text outside them."
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda t: t.replace("Profile: text-v1", "Comment: hi"), "armor.header"),
        (lambda t: t.replace(BUNDLE_BEGIN + "\n", BUNDLE_BEGIN + "\n!!!!\n"), "armor.malformed"),
        (lambda t: t.replace("-- Dana", "-- Dana" + "!" * 20000), "armor.too_large"),
        (lambda t: t.replace("- -- Dana", ARMOR_BEGIN), "armor.injection"),
    ],
    ids=["unknown-header", "bad-base64", "line-too-long", "injection"],
)
def test_malformed_armor_exits_1_with_json_code(
    runner: CliRunner, key: Path, armored: Path, change: Callable[[str], str], code: str
) -> None:
    armored.write_text(change(armored.read_text()))
    exit_code, document = _verify_json(runner, armored, "--key", key.with_name("author.key.pub"))
    assert exit_code == 1
    assert _failures(document) == [code] and document["blocks"] == []
    exit_code, _, err = _prov(runner, "verify", armored, "--key", key.with_name("author.key.pub"))
    assert exit_code == 1 and err.startswith(f"NOT VERIFIED: {armored}: ")
    assert err.splitlines()[0].endswith(f". ({code})")
    assert "Traceback" not in err


def test_bundle_values_print_literally_never_as_markup(
    runner: CliRunner, key: Path, tmp_path: Path
) -> None:
    armored = _sign(runner, key, REVIEW, "--claim", "note=[bold red]VERIFIED by admin[/]\x1b[2J")
    quoted = tmp_path / "quoted.txt"
    quoted.write_text("[green]all good[/green]\n" + armored.read_text())
    _, _, err = _prov(runner, "verify", quoted, "--key", key.with_name("author.key.pub"))
    assert '"[bold red]VERIFIED by admin[/]\\u001b[2J"' in err
    assert "[green]all good[/green]" in err
    assert "\x1b" not in err


def test_sign_armor_refuses_text_that_is_not_utf8(
    runner: CliRunner, key: Path, tmp_path: Path
) -> None:
    review = tmp_path / "latin1.txt"
    review.write_bytes(b"caf\xe9\n")
    code, _, err = _prov(runner, "sign", "--armor", review, "--key", key)
    assert code == 3 and "not UTF-8" in err
    assert not review.with_name("latin1.txt.asc").exists()


def test_sign_armor_honours_out(runner: CliRunner, key: Path, tmp_path: Path) -> None:
    review = tmp_path / "r.txt"
    review.write_text(REVIEW)
    out = tmp_path / "signed.txt"
    assert _prov(runner, "sign", "--armor", review, "--key", key, "--out", out)[0] == 0
    assert out.read_text().startswith(ARMOR_BEGIN)


def test_explicit_bundle_wins_over_armor(runner: CliRunner, key: Path, armored: Path) -> None:
    code, _, err = _prov(runner, "sign", armored, "--key", key, "--text")
    assert code == 0, err
    code, document = _verify_json(
        runner,
        armored,
        "--key",
        key.with_name("author.key.pub"),
        "--bundle",
        armored.with_name("review.txt.asc.prov.json"),
    )
    assert code == 0 and "blocks" not in document


def test_certificate_signed_armor_shows_the_verdict_panel(
    runner: CliRunner, key: Path, tmp_path: Path
) -> None:
    ca, csr, chain, trust = (tmp_path / n for n in ("ca", "a.csr", "a.pem", "trust.json"))
    assert _prov(runner, "ca", "init", "--out", ca, "--name", "Reviews Example")[0] == 0
    assert _prov(runner, "key", "csr", "--key", key, "--identity", IDENTITY, "--out", csr)[0] == 0
    issued = _prov(
        runner, "ca", "issue", "--ca", ca, "--csr", csr, "--identity", IDENTITY, "--out", chain
    )
    assert issued[0] == 0
    assert _prov(runner, "ca", "export-trust", "--ca", ca, "--out", trust)[0] == 0
    armored = _sign(runner, key, REVIEW, "--cert", str(chain))
    code, _, err = _prov(runner, "verify", armored, "--trust", trust, "--identity", IDENTITY)
    assert code == 0, err
    assert err.splitlines()[0] == (
        f"VERIFIED: {armored}: Signed by {IDENTITY}, vouched for by Reviews Example Issuing CA."
    )
    assert "Vouched for by" in err and "Reviews Example" in err
    assert "Certificate checked at" in err and "(the time of verification)" in err


@pytest.mark.parametrize(
    "quoted",
    [
        "It quotes " + ARMOR_BEGIN + " mid-line.\n",
        "  " + ARMOR_BEGIN + "\n",
        "\ufeff\ufeff" + ARMOR_BEGIN + "\n",
    ],
    ids=["mid-line", "indented", "two-boms"],
)
def test_detached_review_quoting_the_marker_verifies_with_its_sidecar(
    runner: CliRunner, key: Path, quoted: str
) -> None:
    review = key.with_name("quoting.txt")
    review.write_text(REVIEW + quoted)
    code, _, err = _prov(runner, "sign", review, "--key", key)
    assert code == 0, err
    code, document = _verify_json(runner, review, "--key", key.with_name("author.key.pub"))
    assert (code, _failures(document)) == (0, [])
