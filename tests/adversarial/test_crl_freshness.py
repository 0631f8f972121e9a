"""Issue 12.5: a stale CRL, or no CRL where the trust root names a CRL location, passed silently
(`revocation.ok`, nothing else). Both are now reported as advisory findings of the revocation step
(`certificate.crl.stale`, `certificate.crl.missing`, `ok: true`, also among the warnings: in
`--json`, the API and the web page), and the `RequireFreshCrl` policy (JSON `requireFreshCrl`,
CLI `--require-fresh-crl`) makes them fatal."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from cli.main import app
from provenance.identity.crl import build_crl
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.present import StepStatus, present
from provenance.verify.policy import AllOf, Identity, RequireFreshCrl, policy_from_json
from provenance.verify.result import VerificationResult
from tests.adversarial.attack import AUTHOR, AUTHORITY, CERTIFIED, PINNED, PINNED_TRUST, check
from tests.factories import IDENTITY, NOW, REVIEW, certified_author, make_authority, sign

CRL_LOCATION = "https://reviews.example/v1/crl"
# The CRL was issued 20 days ago with the usual 7-day nextUpdate: 13 days past it.
STALE_CRL = build_crl(AUTHORITY, now=NOW - timedelta(days=20))
FRESH_CRL = build_crl(AUTHORITY, now=NOW - timedelta(days=1))
ISSUING = AUTHOR.chain[1].subject.rfc4514_string()


def _trust(
    crl: x509.CertificateRevocationList | None = None, locations: tuple[str, ...] = ()
) -> TrustRoot:
    trust = export_trust_root(AUTHORITY, crl=None, crl_locations=locations)
    return replace(trust, crls=() if crl is None else (crl,))


def _advisories(result: VerificationResult) -> list[tuple[str, str, bool]]:
    return [(f.step, f.code, f.ok) for f in result.findings if f.code.startswith("certificate.crl")]


def test_stale_crl_is_an_advisory_finding_and_a_warning() -> None:
    result = check(CERTIFIED, _trust(STALE_CRL))
    assert result.verified
    assert _advisories(result) == [("revocation", "certificate.crl.stale", True)]
    document = result.to_json()
    assert {"step": "revocation", "code": "certificate.crl.stale", "ok": True}.items() <= (
        document["findings"][-2].items()
    )
    assert any("13 days" in warning and ISSUING in warning for warning in document["warnings"])


def test_missing_crl_where_the_trust_root_names_a_crl_location_is_an_advisory_finding() -> None:
    result = check(CERTIFIED, _trust(None, (CRL_LOCATION,)))
    assert result.verified
    assert _advisories(result) == [("revocation", "certificate.crl.missing", True)]
    assert any(CRL_LOCATION in warning for warning in result.warnings)


def test_no_crl_and_no_crl_location_says_nothing() -> None:
    assert _advisories(check(CERTIFIED, _trust())) == []


def test_fresh_crl_says_nothing_and_satisfies_the_policy() -> None:
    policy = AllOf([Identity(IDENTITY), RequireFreshCrl()])
    result = check(CERTIFIED, _trust(FRESH_CRL, (CRL_LOCATION,)), policy=policy)
    assert result.verified
    assert _advisories(result) == []


@pytest.mark.parametrize(
    ("trust", "code"),
    [
        (_trust(STALE_CRL), "certificate.crl.stale"),
        (_trust(None, (CRL_LOCATION,)), "certificate.crl.missing"),
        (_trust(), "certificate.crl.missing"),
    ],
    ids=["stale", "missing-with-location", "no-crl-at-all"],
)
def test_require_fresh_crl_makes_it_fatal(trust: TrustRoot, code: str) -> None:
    for policy in (
        AllOf([Identity(IDENTITY), RequireFreshCrl()]),
        policy_from_json({"identity": IDENTITY, "requireFreshCrl": True}),
    ):
        result = check(CERTIFIED, trust, policy=policy)
        assert not result.verified
        assert [(f.step, f.code) for f in result.failures] == [("policy", code)]


def test_require_fresh_crl_holds_for_a_pinned_key() -> None:
    result = check(PINNED, PINNED_TRUST, policy=RequireFreshCrl())
    assert result.verified


def test_require_fresh_crl_json_must_be_true() -> None:
    with pytest.raises(Exception, match="requireFreshCrl"):
        policy_from_json({"identity": IDENTITY, "requireFreshCrl": "yes"})


def test_cli_reports_a_stale_crl_and_refuses_it_with_require_fresh_crl(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    authority = make_authority(created=now - timedelta(days=40))
    author = certified_author(authority, issued=now - timedelta(days=30))
    trust = export_trust_root(authority, crl=build_crl(authority, now=now - timedelta(days=20)))
    review = tmp_path / "review.txt"
    review.write_bytes(REVIEW)
    (tmp_path / "review.txt.prov.json").write_bytes(sign(author.key, chain=author.chain).to_bytes())
    (tmp_path / "trust.json").write_bytes(trust.to_json())
    args = ["verify", str(review), "--trust", str(tmp_path / "trust.json"), "--identity", IDENTITY]
    runner = CliRunner()
    lenient = runner.invoke(app, [*args, "--json"])
    assert lenient.exit_code == 0
    assert "certificate.crl.stale" in [f["code"] for f in json.loads(lenient.stdout)["findings"]]
    strict = runner.invoke(app, [*args, "--json", "--require-fresh-crl"])
    assert strict.exit_code == 1
    failures = [f["code"] for f in json.loads(strict.stdout)["findings"] if not f["ok"]]
    assert failures == ["certificate.crl.stale"]
    assert "certificate.crl.stale" in runner.invoke(app, args).stderr


def test_web_page_shows_the_stale_crl_as_a_warning_not_a_passed_check() -> None:
    shown = present(check(CERTIFIED, _trust(STALE_CRL)))
    assert shown.verified
    status = {step.code: step.status for step in shown.steps}
    assert status["certificate.crl.stale"] is StepStatus.ADVISORY
    assert shown.notes == (
        "The list of withdrawn certificates is out of date: a recent withdrawal would not show.",
        "No signer was required: anyone vouched for by your trust root is accepted. Check that "
        "the signer below is who you expect.",
    ) or shown.notes[0].startswith("The list of withdrawn certificates is out of date")
