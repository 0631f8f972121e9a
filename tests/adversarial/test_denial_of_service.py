"""Denial of service by cheap input: identity patterns that backtrack forever (ReDoS), text that
normalizes in quadratic time.

A check that could hang is run in a child process with a generous bound. The bound is not a timing
assertion: a backtracking engine needs about 4**31 steps for the pattern below against the test
identity, so a hang is distinguished from success by many orders of magnitude.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.errors import CanonicalizationError, PolicyError
from provenance.text import Canonicalization, canonicalize
from provenance.verify.policy import (
    POLICY_LIMITS,
    AllOf,
    Identity,
    IdentityPattern,
    policy_from_json,
)
from provenance.verify.verifier import Verifier
from tests.adversarial.attack import CERT_TRUST, CERTIFIED, PINNED, PINNED_TRUST, codes, edited
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    authority_trust,
    certified_author,
    make_authority,
    sign,
)

CATASTROPHIC = "(?:.|.|.|.)*Z"
HANG_BOUND_SECONDS = 120
ROOT = Path(__file__).resolve().parents[2]


def _run_bounded(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in a child process; a hang (the bound passed) fails the test."""
    try:
        return subprocess.run(
            args, cwd=ROOT, capture_output=True, text=True, timeout=HANG_BOUND_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {HANG_BOUND_SECONDS} s: the pattern backtracks")


def _codes_in_child(pattern: str) -> str:
    """The failure codes of the genuine certified bundle under ``IdentityPattern(pattern)``,
    computed in a child process."""
    script = textwrap.dedent(f"""
        from provenance.verify.policy import IdentityPattern
        from tests.adversarial.attack import CERT_TRUST, CERTIFIED, codes
        print(codes(CERTIFIED, CERT_TRUST, policy=IdentityPattern({pattern!r})))
    """)
    done = _run_bounded([sys.executable, "-c", script])
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_catastrophic_identity_pattern_finishes_with_a_mismatch_in_the_library() -> None:
    assert _codes_in_child(CATASTROPHIC) == "['policy.identity.mismatch']"


def test_nested_repetitions_up_to_the_cap_finish_and_match_fully() -> None:
    pattern = "(?:(?:.|.|.|.)*)*" * 10 + r"https://reviews\.example/u/8841"
    assert len(pattern) <= POLICY_LIMITS.max_identity_pattern_chars
    assert _codes_in_child(pattern) == "[]"


def test_catastrophic_identity_regex_option_finishes_with_exit_1_in_the_cli(tmp_path: Path) -> None:
    now = datetime.now(UTC)  # the CLI verifies at the clock's time
    authority = make_authority(created=now - timedelta(days=2))
    author = certified_author(authority, issued=now - timedelta(days=1), days=30)
    (tmp_path / "review.txt").write_bytes(REVIEW)
    (tmp_path / "review.txt.prov.json").write_bytes(sign(author.key, chain=author.chain).to_bytes())
    (tmp_path / "trust.json").write_bytes(authority_trust(authority).to_json())
    args = [sys.executable, "-m", "cli", "verify", str(tmp_path / "review.txt")]
    args += ["--trust", str(tmp_path / "trust.json"), "--identity-regex", CATASTROPHIC, "--json"]
    done = _run_bounded(args)
    assert done.returncode == 1, done.stderr
    failures = [f["code"] for f in json.loads(done.stdout)["findings"] if not f["ok"]]
    assert failures == ["policy.identity.mismatch"]


def test_identity_pattern_over_the_length_cap_is_malformed() -> None:
    with pytest.raises(PolicyError) as raised:
        IdentityPattern("a" * (POLICY_LIMITS.max_identity_pattern_chars + 1))
    assert raised.value.code == "policy.malformed"
    with pytest.raises(PolicyError) as raised:
        policy_from_json({"identityRegex": "a" * (POLICY_LIMITS.max_identity_pattern_chars + 1)})
    assert raised.value.code == "policy.malformed"


@pytest.mark.parametrize(
    "pattern",
    [
        r"(https://.*)\1",  # a backreference: needs backtracking
        r"https://(?=reviews).*",  # a lookahead
        r"(a{1000}){1000}",  # a repetition beyond the engine's bound
        r"\pL{1000}",  # a program larger than the engine's memory cap
        "https://\ud800",  # a lone surrogate
    ],
)
def test_identity_pattern_outside_the_linear_time_engine_is_malformed(pattern: str) -> None:
    with pytest.raises(PolicyError) as raised:
        IdentityPattern(pattern)
    assert raised.value.code == "policy.malformed"


# Quadratic canonicalization: runs of combining marks (issue 12.9). Unicode normalization reorders
# and composes each run of non-starters in time quadratic in its length; text-v1 refuses runs longer
# than the Stream-Safe Text Format allows (UAX #15 §13), and the content is not read at all until
# the bundle's signer is established.

DESCENDING_MARKS = "\u0345\u0315\u031b\u0301\u0300\u0316\u0327"
"""Combining marks of different classes (240, 232, 216, 230, 230, 220, 202)."""


def _marks(count: int) -> str:
    return "".join(DESCENDING_MARKS[i % len(DESCENDING_MARKS)] for i in range(count))


def test_a_run_of_31_non_starters_is_invalid_content_under_text_v1() -> None:
    content = REVIEW + ("e" + _marks(31) + "\n").encode()
    assert codes(PINNED, content=content) == ["content.invalid"]
    with pytest.raises(CanonicalizationError, match="non-starters"):
        canonicalize(content, Canonicalization.TEXT_V1)


def test_a_run_of_30_non_starters_is_still_text() -> None:
    canonicalize(("e" + _marks(30) + "\n").encode(), Canonicalization.TEXT_V1)
    canonicalize(_marks(30).encode(), Canonicalization.TEXT_V1)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("\u00a8" + "\u0301" * 29, True),  # DIAERESIS is SPACE + U+0308 in NFKD: 30
        ("\u00a8" + "\u0301" * 30, False),  # 31
        ("\u1fa2" + "\u0301" * 27, True),  # omega + 3 marks in NFKD: 30
        ("\u1fa2" + "\u0301" * 28, False),  # 31
        ("\u0344" * 15, True),  # each is U+0308 U+0301 in NFKD: 30
        ("\u0344" * 16, False),  # 32
        ("a" + "\uff9e" * 30 + "b" + "\u0301" * 30, True),  # a starter ends each run
        ("\u0301" * 15 + "\u2000" + "\u0301" * 15, True),  # white space is a starter
        ("\u0301" * 15 + "\u200b" + "\u0301" * 16, True),  # ZERO WIDTH SPACE is a starter too
        ("\u0301" * 15 + "\u034f" + "\u0301" * 16, True),  # COMBINING GRAPHEME JOINER (class 0)
        ("\uff9e" * 31, False),  # HALFWIDTH VOICED SOUND MARK: a non-starter only in NFKD
    ],
    ids=[
        "diaeresis-29",
        "diaeresis-30",
        "omega-27",
        "omega-28",
        "dialytika-tonos-15",
        "dialytika-tonos-16",
        "starters-between",
        "white-space-between",
        "zero-width-space-between",
        "grapheme-joiner-between",
        "halfwidth-voiced-mark-31",
    ],
)
def test_non_starters_are_counted_in_the_nfkd_form(text: str, valid: bool) -> None:
    content = ("x" + text + "\n").encode()
    if valid:
        canonicalize(content, Canonicalization.TEXT_V1)
    else:
        with pytest.raises(CanonicalizationError, match="non-starters"):
            canonicalize(content, Canonicalization.TEXT_V1)


def _hostile_stream() -> io.BytesIO:
    """20,000 combining marks on one line, as a stream whose position shows whether it was read."""
    return io.BytesIO(("e" + _marks(20_000) + "\n").encode())


def test_a_junk_signature_fails_before_the_content_is_read() -> None:
    junk = edited(PINNED, lambda d: d["dsseEnvelope"]["signatures"][0].update(sig="A" * 88))
    content = _hostile_stream()
    result = Verifier(PINNED_TRUST).check(content, junk, AllOf([]), at=NOW)
    assert [f.code for f in result.failures] == ["signature.invalid"]
    assert "digest" not in [f.step for f in result.findings]
    assert content.tell() == 0


def test_a_chain_the_trust_root_does_not_anchor_fails_before_the_content_is_read() -> None:
    stranger = make_authority("Stranger")
    author = certified_author(stranger, issued=NOW - timedelta(days=1))
    bundle = sign(author.key, chain=author.chain)
    content = _hostile_stream()
    result = Verifier(CERT_TRUST).check(content, bundle, Identity(IDENTITY), at=NOW)
    assert [f.code for f in result.failures] == ["certificate.untrusted"]
    assert content.tell() == 0


def test_tampered_content_from_a_trusted_signer_still_names_the_signer() -> None:
    result = Verifier(CERT_TRUST).check(REVIEW + b"!", CERTIFIED, Identity(IDENTITY), at=NOW)
    assert [f.code for f in result.failures] == ["digest.mismatch"]
    assert result.signer is not None and result.signer.identities == (IDENTITY,)
