"""Denial of service by cheap input: identity patterns that backtrack forever (ReDoS).

A check that could hang is run in a child process with a generous bound. The bound is not a timing
assertion: a backtracking engine needs about 4**31 steps for the pattern below against the test
identity, so a hang is distinguished from success by many orders of magnitude.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.errors import PolicyError
from provenance.verify.policy import MAX_IDENTITY_PATTERN_CHARS, IdentityPattern, policy_from_json
from tests.factories import REVIEW, authority_trust, certified_author, make_authority, sign

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
    assert len(pattern) <= MAX_IDENTITY_PATTERN_CHARS
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
        IdentityPattern("a" * (MAX_IDENTITY_PATTERN_CHARS + 1))
    assert raised.value.code == "policy.malformed"
    with pytest.raises(PolicyError) as raised:
        policy_from_json({"identityRegex": "a" * (MAX_IDENTITY_PATTERN_CHARS + 1)})
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
