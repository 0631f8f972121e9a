"""``prov inspect`` shows the statement as strictly parsed as a verifier parses it (attacker review
of the strict parsing, 2026-12-03, finding 7): it read the payload with the lenient
``json.loads``, so it showed a statement with duplicate keys (last value), decoded a UTF-16
payload, and crashed with a traceback on ``NaN``. A payload that is not strict JSON is unreadable
input: one line, exit 3."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from provenance.keys import KeyType, generate_key
from tests.factories import sign

PAYLOADS = {
    "duplicate key": (
        b'{"_type":"x","_type":"https://in-toto.io/Statement/v1"}',
        "duplicate JSON key '_type'",
    ),
    "NaN": (b'{"n":NaN}', "non-finite number NaN is not JSON"),
    "UTF-16": (
        '{"_type":"https://in-toto.io/Statement/v1"}'.encode("utf-16-le"),
        "not JSON: Expecting property name enclosed in double quotes at line 1 column 2",
    ),
    "lone surrogate": (b'{"n":"\\ud800"}', "lone surrogate in the string at $.n (not I-JSON)"),
    "integer past 2^53": (
        b'{"n":9007199254740993}',
        "integer 9007199254740993 is outside the exact range of I-JSON, +-(2**53-1)",
    ),
}


def _bundle_with_payload(tmp_path: Path, payload: bytes) -> Path:
    bundle = sign(generate_key(KeyType.ED25519))
    envelope = dataclasses.replace(bundle.envelope, payload=payload)
    path = tmp_path / "b.json"
    path.write_bytes(dataclasses.replace(bundle, envelope=envelope).to_bytes())
    return path


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("case", sorted(PAYLOADS))
def test_inspect_of_a_payload_that_is_not_strict_json_exits_3_in_one_line(
    tmp_path: Path, case: str, as_json: bool
) -> None:
    payload, reason = PAYLOADS[case]
    path = _bundle_with_payload(tmp_path, payload)
    result = CliRunner().invoke(app, ["inspect", str(path), *(["--json"] if as_json else [])])
    assert result.exit_code == 3, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: {path}: statement: {reason}"]


def test_inspect_shows_a_strict_payload_that_is_not_a_statement(tmp_path: Path) -> None:
    path = _bundle_with_payload(tmp_path, b'{"anything":[1,2.5,"x"]}')
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["unverified"], summary["statement"]) == (True, {"anything": [1, 2.5, "x"]})
