"""`prov log`: a logged authority flow, proofs, audits from a directory and from loopback HTTP."""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.log_cmd import plural
from cli.main import app
from provenance.encoding import b64decode_strict
from provenance.tlog.merkle import verify_consistency, verify_inclusion

IDENTITY = "https://reviews.example/u/8841"
ORIGIN = "reviews.example/log"
REVIEWS = ("Sturdy lamp.\n", "Bright enough to read by.\n", "Would buy again.\n")


@dataclass(frozen=True)
class LoggedFlow:
    """A log, an authority, a trust root and three reviews signed with log entries."""

    root: Path
    log: Path
    trust: Path
    verifier_key: str
    reviews: tuple[Path, ...]

    @property
    def tiles(self) -> Path:
        return self.log / "tiles"


def _prov(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _ok(runner: CliRunner, *args: str | Path) -> str:
    code, out, err = _prov(runner, *args)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def runner() -> Iterator[CliRunner]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_PASSPHRASE", "correct horse battery")
        yield CliRunner()


@pytest.fixture(scope="module")
def flow(runner: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> LoggedFlow:
    root = tmp_path_factory.mktemp("flow")
    log, ca, key, csr, chain, trust = (
        root / name for name in ("log", "ca", "a.key", "a.csr", "a.pem", "trust.json")
    )
    verifier_key = _ok(runner, "log", "init", "--out", log, "--origin", ORIGIN).strip()
    _ok(runner, "ca", "init", "--out", ca, "--name", "Reviews Example")
    _ok(runner, "key", "generate", "--out", key)
    _ok(runner, "key", "csr", "--key", key, "--identity", IDENTITY, "--out", csr)
    _ok(runner, "ca", "issue", "--ca", ca, "--csr", csr, "--identity", IDENTITY, "--out", chain)
    reviews = []
    for number, text in enumerate(REVIEWS):
        review = root / f"review{number}.txt"
        review.write_text(text)
        _ok(runner, "sign", review, "--key", key, "--cert", chain, "--text", "--log", log)
        reviews.append(review)
    _ok(runner, "ca", "export-trust", "--ca", ca, "--log", log, "--require-log", "--out", trust)
    return LoggedFlow(root, log, trust, verifier_key, tuple(reviews))


@pytest.fixture(scope="module")
def served(flow: LoggedFlow) -> Iterator[str]:
    """The log's tiles directory served over loopback HTTP as static files."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(flow.tiles))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _audit(
    runner: CliRunner, source: str | Path, state: Path, *extra: str | Path
) -> tuple[int, dict[str, Any]]:
    code, out, _ = _prov(runner, "log", "audit", source, "--state", state, "--json", *extra)
    return code, json.loads(out) if out else {}


def test_logged_signatures_verify_offline_with_the_exported_trust_root(
    runner: CliRunner, flow: LoggedFlow
) -> None:
    trust = json.loads(flow.trust.read_text())
    assert trust["logKeys"] == [flow.verifier_key]
    for review in flow.reviews:
        out = _ok(runner, "verify", review, "--trust", flow.trust, "--identity", IDENTITY, "--json")
        assert json.loads(out)["verified"] is True


def test_verify_rejects_swapped_log_entry(
    runner: CliRunner, flow: LoggedFlow, tmp_path: Path
) -> None:
    first = json.loads(flow.reviews[0].with_name("review0.txt.prov.json").read_text())
    second = json.loads(flow.reviews[1].with_name("review1.txt.prov.json").read_text())
    first["verificationMaterial"]["tlogEntries"] = second["verificationMaterial"]["tlogEntries"]
    swapped = tmp_path / "swapped.prov.json"
    swapped.write_text(json.dumps(first))
    code, out, _ = _prov(
        runner,
        "verify",
        flow.reviews[0],
        "--bundle",
        swapped,
        "--trust",
        flow.trust,
        "--identity",
        IDENTITY,
        "--json",
    )
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == ["log.entry.mismatch"]


def test_audit_accepts_the_log_from_its_directory_then_from_loopback_http(
    runner: CliRunner, flow: LoggedFlow, served: str, tmp_path: Path
) -> None:
    state = tmp_path / "audit.json"
    code, report = _audit(runner, flow.tiles, state, "--trust", flow.trust)
    assert code == 0
    assert (report["ok"], report["origin"], report["size"], report["entries"]) == (
        True,
        ORIGIN,
        3,
        3,
    )
    assert report["previousSize"] is None
    assert json.loads(state.read_text())["checkpoint"] == (flow.tiles / "checkpoint").read_text()
    code, report = _audit(runner, served, state, "--log-key", flow.verifier_key)
    assert code == 0
    assert (report["size"], report["previousSize"]) == (3, 3)


def test_audit_rejects_a_forged_checkpoint(
    runner: CliRunner, flow: LoggedFlow, tmp_path: Path
) -> None:
    tiles = Path(shutil.copytree(flow.tiles, tmp_path / "tiles"))
    text, signature = (tiles / "checkpoint").read_text().split("\n\n")
    origin, _, root = text.split("\n")
    (tiles / "checkpoint").write_text(f"{origin}\n4\n{root}\n\n{signature}")
    code, report = _audit(runner, tiles, tmp_path / "state.json", "--trust", flow.trust)
    assert (code, report["code"]) == (1, "log.checkpoint.invalid")
    assert not (tmp_path / "state.json").exists()


def test_audit_rejects_a_log_rolled_back_below_the_saved_checkpoint(
    runner: CliRunner, flow: LoggedFlow, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    assert _audit(runner, flow.tiles, state, "--trust", flow.trust)[0] == 0
    tiles = Path(shutil.copytree(flow.tiles, tmp_path / "tiles"))
    shutil.copyfile(tiles / "checkpoints" / "2", tiles / "checkpoint")
    saved = state.read_text()
    code, report = _audit(runner, tiles, state, "--trust", flow.trust)
    assert (code, report["code"]) == (1, "log.consistency.invalid")
    assert state.read_text() == saved
    evidence = list(tmp_path.glob("state.conflict-*.txt"))
    assert [path.read_text() for path in evidence] == [(tiles / "checkpoint").read_text()]


def test_audit_of_an_unreadable_source_exits_3(
    runner: CliRunner, flow: LoggedFlow, tmp_path: Path
) -> None:
    code, _ = _audit(runner, tmp_path / "absent", tmp_path / "s.json", "--trust", flow.trust)
    assert code == 3
    code, _ = _audit(runner, "http://127.0.0.1:9/", tmp_path / "s.json", "--trust", flow.trust)
    assert code == 3


def test_audit_needs_exactly_one_source_of_trust(runner: CliRunner, flow: LoggedFlow) -> None:
    assert _prov(runner, "log", "audit", flow.tiles)[0] == 2


def test_monitor_lists_the_identitys_entries_once(
    runner: CliRunner, flow: LoggedFlow, served: str, tmp_path: Path
) -> None:
    state = tmp_path / "monitor.json"
    args = ("log", "monitor", served, "--identity", IDENTITY, "--trust", flow.trust)
    first = json.loads(_ok(runner, *args, "--state", state, "--json"))
    assert [entry["index"] for entry in first["entries"]] == [0, 1, 2]
    assert first["entries"][0]["identities"] == [IDENTITY]
    again = json.loads(_ok(runner, *args, "--state", state, "--json"))
    assert (again["since"], again["entries"]) == (3, [])
    other = json.loads(
        _ok(
            runner,
            *args[:3],
            "--identity",
            "https://reviews.example/u/1",
            "--trust",
            flow.trust,
            "--state",
            tmp_path / "other.json",
            "--json",
        )
    )
    assert other["entries"] == []


def test_checkpoint_and_proofs_verify(runner: CliRunner, flow: LoggedFlow) -> None:
    note = _ok(runner, "log", "checkpoint", "--log", flow.log)
    assert note == (flow.tiles / "checkpoint").read_text()
    inclusion = json.loads(_ok(runner, "log", "proof", "--log", flow.log, "--index", "1"))
    assert (inclusion["origin"], inclusion["logIndex"], inclusion["treeSize"]) == (ORIGIN, 1, 3)
    verify_inclusion(
        1,
        3,
        b64decode_strict(inclusion["leafHash"]),
        [b64decode_strict(item) for item in inclusion["hashes"]],
        b64decode_strict(inclusion["rootHash"]),
    )
    consistency = json.loads(
        _ok(runner, "log", "proof", "--log", flow.log, "--from", "1", "--size", "3")
    )
    old = json.loads(_ok(runner, "log", "proof", "--log", flow.log, "--index", "0", "--size", "1"))
    assert consistency["checkpoint1"] == old["checkpoint"]
    verify_consistency(
        1,
        3,
        b64decode_strict(old["rootHash"]),
        b64decode_strict(inclusion["rootHash"]),
        [b64decode_strict(item) for item in consistency["hashes"]],
    )


def test_proof_refuses_sizes_beyond_the_log(runner: CliRunner, flow: LoggedFlow) -> None:
    assert _prov(runner, "log", "proof", "--log", flow.log, "--index", "3")[0] == 2
    assert _prov(runner, "log", "proof", "--log", flow.log, "--from", "1", "--size", "9")[0] == 2
    assert _prov(runner, "log", "proof", "--log", flow.log)[0] == 2


@pytest.fixture(scope="module")
def pinned_logged(runner: CliRunner, flow: LoggedFlow) -> tuple[Path, Path]:
    """A review signed with a pinned key (no certificate) and logged in the flow's log."""
    key = flow.root / "pinned.key"
    _ok(runner, "key", "generate", "--out", key)
    review = flow.root / "pinned-review.txt"
    review.write_text("Pinned and logged.\n")
    _ok(runner, "sign", review, "--key", key, "--log", flow.log)
    return review, flow.root / "pinned.key.pub"


def test_pinned_key_with_log_key_verifies_with_the_log_time(
    runner: CliRunner, flow: LoggedFlow, pinned_logged: tuple[Path, Path]
) -> None:
    review, public = pinned_logged
    out = _ok(runner, "verify", review, "--key", public, "--log-key", flow.verifier_key, "--json")
    document = json.loads(out)
    assert document["verified"] is True
    assert document["timeSource"] == "log"
    assert [entry["origin"] for entry in document["logEntries"]] == [ORIGIN]


def test_pinned_key_without_log_key_is_log_untrusted(
    runner: CliRunner, pinned_logged: tuple[Path, Path]
) -> None:
    review, public = pinned_logged
    code, out, _ = _prov(runner, "verify", review, "--key", public, "--json")
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == ["log.untrusted"]


def test_log_key_of_another_log_does_not_prove_the_time(
    runner: CliRunner, flow: LoggedFlow, pinned_logged: tuple[Path, Path]
) -> None:
    other = _ok(runner, "log", "init", "--out", flow.root / "other-log", "--origin", ORIGIN)
    review, public = pinned_logged
    code, out, _ = _prov(
        runner, "verify", review, "--key", public, "--log-key", other.strip(), "--json"
    )
    assert code == 1
    failures = [f["code"] for f in json.loads(out)["findings"] if not f["ok"]]
    assert failures == ["log.checkpoint.unsigned"]


def test_malformed_log_key_is_one_line_and_exit_3(
    runner: CliRunner, pinned_logged: tuple[Path, Path]
) -> None:
    review, public = pinned_logged
    code, _, err = _prov(runner, "verify", review, "--key", public, "--log-key", "not+a+key")
    assert code == 3
    assert "--log-key" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_log_key_without_key_or_trust_is_a_usage_error(
    runner: CliRunner, flow: LoggedFlow, pinned_logged: tuple[Path, Path]
) -> None:
    review, _ = pinned_logged
    code, _, err = _prov(runner, "verify", review, "--log-key", flow.verifier_key)
    assert code == 2
    assert "--log-key needs --key or --trust" in err


def test_monitor_prints_labelled_columns_rfc3339_times_and_flags_revoked_certificates(
    runner: CliRunner, flow: LoggedFlow, tmp_path: Path
) -> None:
    ca = tmp_path / "ca"
    shutil.copytree(flow.root / "ca", ca)
    _ok(
        runner,
        "ca",
        "revoke",
        "--ca",
        ca,
        "--cert",
        flow.root / "a.pem",
        "--reason",
        "keyCompromise",
    )
    revoked_trust = tmp_path / "trust.json"
    _ok(runner, "ca", "export-trust", "--ca", ca, "--log", flow.log, "--out", revoked_trust)
    args = ("log", "monitor", flow.tiles, "--identity", IDENTITY, "--state", tmp_path / "m.json")
    code, out, err = _prov(runner, *args, "--trust", revoked_trust)
    assert code == 0, err
    assert err.startswith("AUDIT OK: "), "no blank line before the summary off a terminal"
    assert f"3 entries for {IDENTITY}" in err
    header, *rows = out.splitlines()
    labels = [label.strip() for label in header.split("  ") if label.strip()]
    assert labels == ["INDEX", "LOGGED AT (UTC)", "CERTIFICATE", "SERIAL", "ENVELOPE SHA-256"]
    assert len(rows) == 3
    for number, row in enumerate(rows):
        index, logged_at, status, *_ = row.split()
        assert (index, status) == (str(number), "REVOKED")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", logged_at), logged_at
    code, out, _ = _prov(runner, *args[:-2], "--state", tmp_path / "n.json", "--trust", flow.trust)
    assert code == 0 and all(row.split()[2:4] == ["not", "revoked"] for row in out.splitlines()[1:])


def test_monitor_counts_entries_in_words() -> None:
    assert [plural(n, "entry", "entries") for n in (0, 1, 2)] == [
        "0 entries",
        "1 entry",
        "2 entries",
    ]
