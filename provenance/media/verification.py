"""Verify media: c2pa's validation mapped onto the project's result model (specs/media-v1.md).

Steps, in order: parse (fatal), manifest, ingredients, log (fatal), certificate (fatal),
revocation, policy (fatal). The media verifies only when all seven ran and every finding is ok.

Two passes (specs/media-v1.md §3, Passes). The first reads with c2pa's verification of the claim
signer's trust off: c2pa still checks the claim signature, the bindings, the signer's certificate
profile and the time stamps (their trust too), and the toolkit validates the signer's chain to the
same anchors itself, as it always does. Its result stands only when the toolkit validated the
signer's chain, the validated path uses no CA certificate the x5chain does not carry, the chain
was checked at the time c2pa checks it (a usable time stamp's, or no time stamp at all), and no
finding is about c2pa's state: then c2pa's signer trust verification could not have added
anything. Every other result comes from the second pass, with c2pa's signer trust on, exactly as
before; a refusal over the signer's chain (``c2pa.signingCredential.untrusted`` among others)
always comes from it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.x509.oid import NameOID

from provenance.codes import Code
from provenance.display import printable
from provenance.errors import MediaError, PolicyError, VerificationError
from provenance.identity.chain import ValidatedChain, validate_chain
from provenance.identity.profile import describe, spki_sha256
from provenance.identity.revocation import RevocationReport, check_revocation
from provenance.identity.trust import TrustRoot
from provenance.media.assertion import read_content_assertion
from provenance.media.engine import Reading, read_with_c2pa
from provenance.media.findings import (
    CLAIM_SIGNATURE_FAILURE,
    STATE_PREFIX,
    STEP_CERTIFICATE,
    STEP_LOG,
    STEP_PARSE,
    STEP_POLICY,
    STEP_REVOCATION,
    STEPS,
    TRUSTED_STATE,
    VALID_STATE,
    credential_findings,
    has_trusted_timestamp,
    ingredient_findings,
    manifest_findings,
)
from provenance.media.profile import MEDIA_PROFILE
from provenance.media.store import ClaimSigner, ManifestStoreError, claim_signer
from provenance.media.timestamp import TOKEN_LABELS, usable_time_stamp
from provenance.statement import Author, ContentPredicate, Statement, format_time
from provenance.text import Canonicalization
from provenance.verify.policy import Policy, VerifiedFacts, check_certified
from provenance.verify.result import (
    Finding,
    SignerIdentity,
    SignerKind,
    TimeSource,
    VerificationResult,
)

_CHUNK_BYTES = 1024 * 1024
_describe = lru_cache(maxsize=1024)(describe)
""":func:`describe` per certificate (equal and hashed by DER): a signer signs many assets."""
SIGNER_MISMATCH = Code.MEDIA_SIGNATURE_SIGNER_MISMATCH


@dataclass
class _Run:
    at: datetime
    sha256: str
    mime_type: str
    signer_trust: bool
    reading: Reading | None = None
    claim: ClaimSigner | None = None
    author: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    signer: SignerIdentity | None = None
    chain: ValidatedChain | None = None
    revocation: RevocationReport | None = None
    checked_at: datetime | None = None
    time_source: TimeSource | None = None
    statement: Statement | None = None


def verify_media(
    source: BinaryIO | bytes,
    mime_type: str,
    trust: TrustRoot,
    policy: Policy,
    *,
    at: datetime,
    sidecar: bytes | None = None,
) -> VerificationResult:
    """Verify an asset's C2PA manifest against ``trust`` and ``policy``; never raises for bad media.

    Args:
        source: The asset's bytes or a seekable binary stream (read from byte 0, as c2pa reads it,
            whatever its position).
        mime_type: Its MIME type (or extension), e.g. ``image/png``.
        trust: The trust root: its roots are the only trust anchors, its CRLs apply, and
            ``requireLog`` fails media (which is never logged) with ``log.missing``.
        policy: The caller's requirements; identities match the signer certificate's SANs.
        at: The verification time (timezone-aware).
        sidecar: A ``.c2pa`` manifest store to verify the asset with, instead of an embedded one.

    Returns:
        The result: one finding per C2PA failure (code ``c2pa.<C2PA code>``) or per step passed
        (``specs/media-v1.md`` §3). When the claim signature does not verify, the certificate step
        only reports c2pa's credential failures and establishes no signer, and neither revocation
        nor policy runs. A result reached without c2pa's signer trust verification is returned
        only when that verification could not have changed it (module docstring); every other
        result is the one with c2pa's signer trust on.
    """
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    digest = hashlib.sha256(source).hexdigest() if isinstance(source, bytes) else _sha256(stream)
    start, moment = stream.tell(), at.astimezone(UTC)
    run, findings = _verify(_Run(moment, digest, mime_type, False), stream, trust, policy, sidecar)
    if not _stands_without_c2pa_signer_trust(run, findings):
        stream.seek(start)
        run = _Run(moment, digest, mime_type, True)
        run, findings = _verify(run, stream, trust, policy, sidecar)
    return _result(run, findings, policy)


def _verify(
    run: _Run, stream: BinaryIO, trust: TrustRoot, policy: Policy, sidecar: bytes | None
) -> tuple[_Run, list[Finding]]:
    """One pass: c2pa reads (its signer trust as ``run.signer_trust`` says), then every step."""
    findings = _parse(run, stream, trust, sidecar)
    if findings[0].ok:
        findings += _checks(run, trust, policy)
    return run, findings


def _stands_without_c2pa_signer_trust(run: _Run, findings: list[Finding]) -> bool:
    """Whether a first-pass result stands: the toolkit validated the signer's chain (whatever the
    other steps found), c2pa had every CA certificate of the validated path (the x5chain's,
    besides the anchors), the chain was checked when c2pa checks it (c2pa-rs checks the signer's
    chain at the time stamp's time, else at no time), no finding named c2pa's state, and the store
    holds no manifest but the active one (c2pa's signer trust also judges ingredients' signers,
    which the toolkit does not validate itself)."""
    if run.signer_trust or run.chain is None or run.claim is None:
        return False
    if any(f.code.startswith(STATE_PREFIX) for f in findings) or _has_other_manifests(run):
        return False
    carried = set(run.claim.chain)
    if not all(certificate in carried for certificate in run.chain.chain[1:-1]):
        return False
    return run.time_source is TimeSource.TIMESTAMP or not _stamped(run)


def _has_other_manifests(run: _Run) -> bool:
    """Whether c2pa read any manifest besides the active one (an ingredient's)."""
    manifests = _reading(run).report.get("manifests")
    return not isinstance(manifests, dict) or len(manifests) != 1


def _stamped(run: _Run) -> bool:
    """Whether the claim signature carries a time-stamp token or c2pa reported a signing time."""
    assert run.claim is not None
    info = _reading(run).active_manifest.get("signature_info") or {}
    return "time" in info or any(label in run.claim.unprotected for label in TOKEN_LABELS)


def _checks(run: _Run, trust: TrustRoot, policy: Policy) -> list[Finding]:
    reading = _reading(run)
    expected = TRUSTED_STATE if run.signer_trust else VALID_STATE
    manifest = manifest_findings(reading.results, reading.state, expected)
    findings = manifest + ingredient_findings(reading.results)
    log = _log(trust)
    findings.append(log)
    if not log.ok:
        return findings
    signature_ok = not any(f.code.startswith(CLAIM_SIGNATURE_FAILURE) for f in manifest)
    if not signature_ok:
        return findings + credential_findings(reading.results)
    certificate = _certificate(run, trust)
    findings += certificate
    if all(f.ok for f in certificate):
        findings += [*_revocation(run, trust), _policy(run, policy)]
    return findings


def _parse(run: _Run, stream: BinaryIO, trust: TrustRoot, sidecar: bytes | None) -> list[Finding]:
    try:
        run.reading = read_with_c2pa(
            stream,
            run.mime_type,
            anchors=trust.roots,
            sidecar=sidecar,
            signer_trust=run.signer_trust,
        )
        content = read_content_assertion(run.reading.active_manifest)
    except VerificationError as exc:
        return [Finding(STEP_PARSE, exc.code, False, exc.message)]
    except MediaError as exc:
        return [Finding(STEP_PARSE, Code.MEDIA_ASSERTION_MALFORMED, False, str(exc))]
    if content is not None:
        run.author, run.claims = content
    count = len(run.reading.report.get("manifests") or {})
    return [
        Finding(
            STEP_PARSE,
            f"{STEP_PARSE}.ok",
            True,
            f"{count} C2PA manifest(s), active {run.reading.active_label}",
        )
    ]


def _log(trust: TrustRoot) -> Finding:
    if trust.media_requires_log:
        return Finding(
            STEP_LOG,
            Code.LOG_MISSING,
            False,
            f"trust root {trust.name!r} requires log inclusion; C2PA media carries no log proof",
        )
    exempt = (
        f"trust root {trust.name!r} logs bundles but does not require media to be logged; "
        if trust.require_log
        else ""
    )
    return Finding(
        STEP_LOG,
        f"{STEP_LOG}.ok",
        True,
        f"{exempt}not logged: certificates are checked at a trusted C2PA time stamp, else the "
        "verification time",
    )


def _certificate(run: _Run, trust: TrustRoot) -> list[Finding]:
    reading = _reading(run)
    failures = credential_findings(reading.results)
    if failures:
        return failures
    try:
        signer = run.claim = claim_signer(reading.store, reading.active_label)
        chain = signer.chain
        _check_reported_leaf(chain[0], reading.active_manifest)
        moment = _signing_time(run, signer)
        validated = validate_chain(chain, trust, moment, MEDIA_PROFILE)
    except VerificationError as exc:
        return [Finding(STEP_CERTIFICATE, exc.code, False, exc.message)]
    except ValueError as exc:
        return [Finding(STEP_CERTIFICATE, Code.CERTIFICATE_MALFORMED, False, str(exc))]
    run.chain = validated
    run.signer = SignerIdentity(
        SignerKind.CERTIFICATE,
        validated.identities,
        spki_sha256(validated.leaf),
        validated.issuer,
        validated.issuer_subjects,
        validated.issuer_key_ids,
        validated.issuer_fingerprints,
    )
    return [
        Finding(
            STEP_CERTIFICATE,
            f"{STEP_CERTIFICATE}.ok",
            True,
            f"{_describe(validated.leaf)} signed the claim; chain to "
            f"{validated.issuer_subjects[-1]} valid at {format_time(moment)}",
        )
    ]


def _check_reported_leaf(leaf: x509.Certificate, manifest: dict[str, Any]) -> None:
    """The leaf must be the certificate c2pa reported: same serial number and subject common name
    (c2pa's reader JSON gives no certificate hash; the store checked is c2pa's own anyway).

    Raises:
        ManifestStoreError: ``media.signature.signer.mismatch``.
    """
    info = manifest.get("signature_info") or {}
    reported = (str(info.get("cert_serial_number", "")), info.get("common_name"))
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    found = (str(leaf.serial_number), names[0].value if names else None)
    if reported != found:
        raise ManifestStoreError(
            f"the x5chain leaf (serial {found[0]}, common name {printable(str(found[1]))!r}) is "
            f"not the certificate c2pa reported (serial {printable(reported[0]) or 'none'}, "
            f"common name {printable(str(reported[1]))!r})",
            code=SIGNER_MISMATCH,
        )


def _signing_time(run: _Run, signer: ClaimSigner) -> datetime:
    """A trusted C2PA time stamp's time, else the verification time (recorded in ``run``).

    Trusted: c2pa validated it, and every end-entity certificate of its tokens is a time-stamping
    certificate only (:mod:`provenance.media.timestamp`).
    """
    reading = _reading(run)
    stamped = (reading.active_manifest.get("signature_info") or {}).get("time")
    if (
        has_trusted_timestamp(reading.results, reading.active_label)
        and isinstance(stamped, str)
        and usable_time_stamp(signer.unprotected)
    ):
        moment, source = datetime.fromisoformat(stamped).astimezone(UTC), TimeSource.TIMESTAMP
    else:
        moment, source = run.at, TimeSource.VERIFICATION
    run.checked_at, run.time_source = moment, source
    return moment


def _revocation(run: _Run, trust: TrustRoot) -> list[Finding]:
    """``revocation.ok`` then the advisory stale/missing CRL findings, as for bundles."""
    assert run.chain is not None and run.checked_at is not None
    try:
        run.revocation = check_revocation(run.chain, trust, signing_time=run.checked_at, now=run.at)
    except VerificationError as exc:
        return [Finding(STEP_REVOCATION, exc.code, False, exc.message)]
    passed = Finding(
        STEP_REVOCATION,
        f"{STEP_REVOCATION}.ok",
        True,
        f"not revoked for a signature at {format_time(run.checked_at)}",
    )
    notices = [
        Finding(STEP_REVOCATION, code, True, message) for code, message in run.revocation.notices
    ]
    return [passed, *notices]


def _policy(run: _Run, policy: Policy) -> Finding:
    assert run.signer is not None and run.checked_at is not None
    facts = VerifiedFacts(
        run.signer,
        _statement(run),
        run.checked_at,
        run.time_source or TimeSource.VERIFICATION,
        run.at,
        run.revocation,
    )
    try:
        check_certified(policy, facts)
    except PolicyError as exc:
        return Finding(STEP_POLICY, exc.code, False, exc.message)
    return Finding(STEP_POLICY, f"{STEP_POLICY}.ok", True, "policy satisfied")


def _statement(run: _Run) -> Statement:
    """The verified facts as a statement: subject = the asset, predicate = the content assertion.

    Built once the check time is known (for the policy step) and kept for the result.
    """
    if run.statement is None:
        run.statement = _new_statement(run)
    return run.statement


def _new_statement(run: _Run) -> Statement:
    reading = _reading(run)
    predicate = ContentPredicate(
        content_type=run.mime_type,
        canonicalization=Canonicalization.NONE,
        created=run.checked_at or run.at,
        author=Author(run.author) if run.author else None,
        claims=run.claims,
    )
    title = reading.active_manifest.get("title")
    return Statement(title if isinstance(title, str) else "media", run.sha256, predicate)


def _result(run: _Run, findings: list[Finding], policy: Policy) -> VerificationResult:
    trusted_signer = run.signer is not None
    return VerificationResult(
        verified=_verified(findings),
        findings=tuple(findings),
        signer=run.signer,
        statement=_statement(run) if trusted_signer else None,
        certificate_checked_at=run.checked_at if run.chain else None,
        time_source=run.time_source,
        warnings=policy.warnings
        + tuple(f"{f.code}: {f.message}" for f in findings if f.ok and f.code != f"{f.step}.ok"),
    )


def _verified(findings: list[Finding]) -> bool:
    return {f.step for f in findings} == set(STEPS) and all(f.ok for f in findings)


def inspect_media(
    source: BinaryIO | bytes, mime_type: str, *, sidecar: bytes | None = None
) -> dict[str, Any]:
    """What the manifest store says, WITHOUT trusting any of it (no trust anchors configured).

    Raises:
        MediaReadError: ``media.unsupported``, ``media.unsigned`` or ``media.malformed``.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    reading = read_with_c2pa(stream, mime_type, anchors=(), sidecar=sidecar)
    return {
        "unverified": True,
        "validationState": reading.state,
        "activeManifest": reading.active_label,
        "manifests": reading.report.get("manifests") or {},
        "validationResults": reading.results,
    }


def _reading(run: _Run) -> Reading:
    assert run.reading is not None
    return run.reading


def _sha256(stream: BinaryIO) -> str:
    """The SHA-256 of the whole asset from byte 0, as c2pa reads it whatever the stream's position
    (the position is restored)."""
    start = stream.tell()
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK_BYTES):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()
