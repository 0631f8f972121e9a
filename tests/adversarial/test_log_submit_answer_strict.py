"""``prov log submit`` reads the service's answer as strictly as any bundle (attacker review of the
strict parsing, 2026-12-03, finding 8): it used ``json.loads`` and ``Bundle.from_json``, so an
answer nested past the recursion limit was a ``RecursionError`` traceback, and duplicate keys were
accepted (the last won) in the bundle it then wrote to the user's file. Any such answer, or error
body, is one line and exit 3."""

from __future__ import annotations

import io
import urllib.error
from email.message import Message

import pytest
import typer

from cli.log_submit import _checked, _refused
from provenance.keys import KeyType, generate_key
from tests.factories import sign

DEEP = b"[" * 100_000 + b"]" * 100_000
PREFIX = "error: the service's answer is not a logged bundle: "


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (DEEP, "JSON nested too deeply"),
        (b'{"bundle":{},"logIndex":1,"logIndex":2}', "duplicate JSON key 'logIndex'"),
        (
            b'{"bundle":{"mediaType":"x","mediaType":"y"},"logIndex":1}',
            "duplicate JSON key 'mediaType'",
        ),
        (
            b'{"bundle":{"x":' + b"[" * 16 + b"]" * 16 + b'},"logIndex":1}',
            "bundle: JSON nested deeper than 16 levels",
        ),
        (b'{"bundle":{"x":"\\ud800"},"logIndex":1}', "lone surrogate in the string at $.bundle.x"),
        (b'{"bundle":{},"logIndex":NaN}', "non-finite number NaN is not JSON"),
        (b"[1]", "list indices must be integers or slices, not str"),
    ],
    ids=["deep", "duplicate", "duplicate in bundle", "bundle too deep", "surrogate", "NaN", "list"],
)
def test_an_answer_that_is_not_a_strict_logged_bundle_exits_3_in_one_line(
    answer: bytes, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    submitted = sign(generate_key(KeyType.ED25519))
    with pytest.raises(typer.Exit) as raised:
        _checked(answer, submitted, replayed=False)
    assert raised.value.exit_code == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(PREFIX + reason)


def test_a_logindex_that_is_a_boolean_is_not_a_logged_bundle(
    capsys: pytest.CaptureFixture[str],
) -> None:
    submitted = sign(generate_key(KeyType.ED25519))
    answer = b'{"bundle":' + submitted.to_bytes() + b',"logIndex":true}'
    with pytest.raises(typer.Exit) as raised:
        _checked(answer, submitted, replayed=False)
    assert raised.value.exit_code == 3
    assert "not the submitted signature with its log entry" in capsys.readouterr().err


def test_a_deeply_nested_error_body_is_shown_as_its_http_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = urllib.error.HTTPError("https://x.example", 500, "boom", Message(), io.BytesIO(DEEP))
    with pytest.raises(typer.Exit) as raised:
        _refused(error)
    assert raised.value.exit_code == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["error: the service did not log the bundle: HTTP 500"]
