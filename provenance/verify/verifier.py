"""The Verifier: the numbered steps of specs/verification.md, in the same order.

1. parse: the bundle (caps, strict schema), the envelope (one signature, in-toto payload type) and
   the statement.
2. signature: the signature over PAE verifies with the pinned key or the leaf certificate's key
   (P-256: canonical DER, low S; legacy r || s only with a log time before the cutover).
3. log: every log entry binds this envelope and signer, its inclusion proof verifies against a
   checkpoint signed by a log key of the trust root; its integrated time becomes the signing time.
4. certificate: the chain leads to a trust-root anchor at the signing time.
5. digest: the content's canonical SHA-256 equals the subject digest. It runs once the signer is
   established, so content is never read for a bundle whose signature or chain fails.
6. revocation: no CRL of the trust root revokes the leaf for a signature made at that time.
7. policy: the caller's requirements hold.

Verification takes bytes (or an open binary stream for large content), a trust root and an explicit
time; it never opens files, reads the clock or touches the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from provenance._records import quick_init
from provenance.bundle import DEFAULT_LIMITS, Bundle, BundleLimits, DecodedBundle
from provenance.codes import Code
from provenance.dsse import INTOTO_PAYLOAD_TYPE, Envelope
from provenance.errors import (
    BundleFormatError,
    CanonicalizationError,
    CertificateError,
    DigestMismatchError,
    KeyFormatError,
    KeyUntrustedError,
    LogProofError,
    SignatureInvalidError,
    VerificationError,
)
from provenance.identity.chain import ValidatedChain, validate_chain
from provenance.identity.profile import certificate_der, certificate_ders, certificate_sha256
from provenance.identity.revocation import RevocationReport, check_revocation
from provenance.identity.trust import TrustRoot
from provenance.keys import (
    P256_SIGNATURE_BYTES,
    P256VerifyingKey,
    VerifyingKey,
    is_ecdsa_der,
    verifying_key_from_cryptography,
)
from provenance.statement import Statement, format_time
from provenance.text import Content, content_sha256
from provenance.tlog.entry import (
    LogEntry,
    TlogEntry,
    certificate_facts,
    signer_binding,
    verify_tlog_entry,
)
from provenance.tlog.note import NoteVerifier
from provenance.verify.policy import Policy, VerifiedFacts, check_certified
from provenance.verify.result import (
    Finding,
    LogProof,
    SignerIdentity,
    SignerKind,
    TimeSource,
    VerificationResult,
)

LEGACY_P1363_CUTOVER = datetime(2027, 1, 1, tzinfo=UTC)
"""Legacy ``r || s`` signatures count only with a log time before this (bundle-v1.md §5.1)."""


@dataclass(kw_only=True)
class SignerFacts:
    """What steps 3, 4, 6 and 7 read and establish, the same for a bundle and a model signature."""

    policy: Policy
    at: datetime
    key: VerifyingKey | None = None
    signer: SignerIdentity | None = None
    chain: ValidatedChain | None = None
    signing_time: datetime | None = None
    time_source: TimeSource | None = None
    log_proofs: list[LogProof] = field(default_factory=list)
    revocation: RevocationReport | None = None
    notices: list[Finding] = field(default_factory=list)


@dataclass(kw_only=True)
class _Run(SignerFacts):
    """The facts established so far in one verification."""

    content: Content
    bundle_input: bytes | Bundle | DecodedBundle
    bundle: Bundle | None = None
    statement: Statement | None = None

    def parsed(self) -> tuple[Bundle, Statement]:
        assert self.bundle is not None and self.statement is not None
        return self.bundle, self.statement


@dataclass(frozen=True)
class _Step:
    name: str
    run: Callable[[_Run], str]
    fatal: bool = True

    @property
    def ok_code(self) -> str:
        """The code of the step's finding when it holds."""
        return f"{self.name}.ok"


class Verifier:
    """Verifies bundles against one explicit trust root.

    Args:
        trust: The trust root; nothing else is ever trusted.
        limits: Size caps for bundle parsing.
    """

    def __init__(self, trust: TrustRoot, limits: BundleLimits = DEFAULT_LIMITS) -> None:
        self._trust = trust
        self._limits = limits
        self._log_verifiers = tuple(NoteVerifier.from_key_string(k) for k in trust.log_keys)
        self._steps = (
            _Step("parse", self._parse),
            _Step("signature", self._signature),
            _Step("log", self._log),
            _Step("certificate", self._certificate),
            _Step("digest", self._digest, fatal=False),
            _Step("revocation", self._revocation, fatal=False),
            _Step("policy", self._policy),
        )
        self._step_names = frozenset(step.name for step in self._steps)
        self._plan = tuple((step.name, step.ok_code, step.run, step.fatal) for step in self._steps)
        self._ok_codes = {step.name: step.ok_code for step in self._steps}

    def verify(
        self,
        content: Content,
        bundle: bytes | Bundle | DecodedBundle,
        policy: Policy,
        *,
        at: datetime,
    ) -> VerificationResult:
        """Verify and return the result, raising on the first failed step.

        Raises:
            VerificationError: The precise subclass and ``code`` of the first failed step.
        """
        run = _Run(content=content, bundle_input=bundle, policy=policy, at=_utc(at))
        findings: list[Finding] = []
        for step in self._steps:
            findings.append(Finding(step.name, f"{step.name}.ok", True, step.run(run)))
            findings.extend(run.notices)
            run.notices.clear()
        return self._result(run, findings)

    def check(
        self,
        content: Content,
        bundle: bytes | Bundle | DecodedBundle,
        policy: Policy,
        *,
        at: datetime,
    ) -> VerificationResult:
        """Verify without raising for bad input: one finding per step that ran."""
        run = _Run(content=content, bundle_input=bundle, policy=policy, at=_utc(at))
        findings: list[Finding] = []
        notices = run.notices
        for name, ok_code, action, fatal in self._plan:
            try:
                message = action(run)
            except VerificationError as exc:
                findings.append(Finding(name, exc.code, False, exc.message))
                if fatal:
                    break
            else:
                findings.append(Finding(name, ok_code, True, message))
                if notices:
                    findings.extend(notices)
                    notices.clear()
        return self._result(run, findings)

    def _result(self, run: _Run, findings: list[Finding]) -> VerificationResult:
        ok_codes = self._ok_codes
        verified = True
        notices: list[str] = []
        for finding in findings:
            if not finding.ok:
                verified = False
            elif finding.code != (ok_codes.get(finding.step) or f"{finding.step}.ok"):
                notices.append(f"{finding.code}: {finding.message}")
        verified = verified and {f.step for f in findings} == self._step_names
        return VerificationResult(
            verified=verified,
            findings=tuple(findings),
            signer=run.signer,
            statement=run.statement if run.signer else None,
            certificate_checked_at=run.signing_time if run.chain else None,
            time_source=run.time_source,
            log_proofs=tuple(run.log_proofs),
            warnings=run.policy.warnings + tuple(notices),
        )

    def _parse(self, run: _Run) -> str:
        bundle = run.bundle_input
        if isinstance(bundle, bytes):
            bundle = Bundle.from_bytes(bundle, self._limits)
        elif isinstance(bundle, DecodedBundle):
            bundle = Bundle.from_decoded(bundle.value, self._limits)
        elif isinstance(bundle, bytearray | memoryview):
            bundle = Bundle.from_bytes(_as_bytes(bundle), self._limits)
        elif not isinstance(bundle, Bundle):
            raise BundleFormatError(f"expected bundle bytes, found {type(bundle).__name__}")
        check_payload_type(bundle.envelope)
        run.bundle = bundle
        run.statement = Statement.from_payload(bundle.envelope.payload)
        return "bundle, envelope and statement are well formed"

    def _digest(self, run: _Run) -> str:
        _, statement = run.parsed()
        profile = statement.predicate.canonicalization
        try:
            actual = content_sha256(run.content, profile)
        except CanonicalizationError as exc:
            raise DigestMismatchError(str(exc), code=Code.CONTENT_INVALID) from exc
        if actual != statement.subject_sha256:
            raise DigestMismatchError(
                f"content sha256 {actual} (profile {profile.value}) differs from the signed "
                f"subject digest {statement.subject_sha256}"
            )
        return f"content matches sha256 {actual} ({profile})"  # a StrEnum: its value

    def _signature(self, run: _Run) -> str:
        bundle, _ = run.parsed()
        key, signer = self._signing_key(bundle)
        signature = bundle.envelope.signatures[0]
        if signature.keyid and signature.keyid != key.key_id:
            raise SignatureInvalidError(
                f"signature keyid {signature.keyid} names another key than {key.key_id}",
                code=Code.KEY_MISMATCH,
            )
        values = signature.der_values  # strict DER: not legacy-shaped, read once
        if values is not None and isinstance(key, P256VerifyingKey):
            key.verify_der_values(values, signature.sig, bundle.envelope.pae)
            detail = "signature"
        elif isinstance(key, P256VerifyingKey) and _legacy_shaped(signature.sig):
            key.verify_p1363(signature.sig, bundle.envelope.pae)
            _check_legacy_time(bundle)
            detail = "legacy r || s signature, logged before the cutover,"
        else:
            key.verify(signature.sig, bundle.envelope.pae)
            detail = "signature"
        run.key = key
        run.signer = signer
        return f"{detail} by key {key.key_id} verifies"

    def _signing_key(self, bundle: Bundle) -> tuple[VerifyingKey, SignerIdentity | None]:
        if bundle.public_key_hint is not None:
            pinned = self._trust.pinned_key(bundle.public_key_hint)
            if pinned is None:
                raise KeyUntrustedError(
                    f"key {bundle.public_key_hint} is not pinned by trust root "
                    f"{self._trust.name!r}; pinned: {[n for n, _ in self._trust.pinned_keys]}"
                )
            name, key = pinned
            return key, SignerIdentity(SignerKind.PINNED_KEY, (name,), key.key_id)
        return _certificate_key(bundle.certificates[0]), None

    def _log(self, run: _Run) -> str:
        return log_step(run, run.parsed()[0], self._trust, self._log_verifiers, "the bundle")

    def _certificate(self, run: _Run) -> str:
        return certificate_step(run, run.parsed()[0].certificates, self._trust)

    def _revocation(self, run: _Run) -> str:
        return revocation_step(run, self._trust)

    def _policy(self, run: _Run) -> str:
        return policy_step(run, run.parsed()[1])


def log_step(
    run: SignerFacts,
    signature: LoggedSignature,
    trust: TrustRoot,
    log_verifiers: Sequence[NoteVerifier],
    what: str,
) -> str:
    """Step 3 (log): prove the signing time; records it and the proofs in ``run``.

    Raises:
        LogProofError: The codes of :func:`prove_signing_time`.
    """
    assert run.key is not None
    proven = prove_signing_time(signature, run.key, trust, log_verifiers, at=run.at, what=what)
    run.signing_time, run.time_source = proven.signing_time, proven.source
    run.log_proofs.extend(proven.proofs)
    return proven.summary


def certificate_step(
    run: SignerFacts, certificates: tuple[x509.Certificate, ...], trust: TrustRoot
) -> str:
    """Step 4 (certificate): validate the chain at the signing time and name the signer.

    Raises:
        CertificateError: The codes of :func:`certificate_signer`.
    """
    assert run.key is not None and run.signing_time is not None
    if not certificates:
        return "pinned key: no certificate to check"
    run.chain, run.signer = certificate_signer(certificates, trust, run.key, run.signing_time)
    return f"chain to {run.signer.issuer_chain[-1]} valid at {time_text(run.signing_time)}"


def revocation_step(run: SignerFacts, trust: TrustRoot) -> str:
    """Step 6 (revocation): no CRL revokes the leaf for that signing time; notices in ``run``.

    Raises:
        CertificateError: ``certificate.revoked`` and the codes of :func:`check_revocation`.
    """
    assert run.signing_time is not None
    if run.chain is None:
        return "pinned key: no certificate to check"
    run.revocation = check_revocation(run.chain, trust, signing_time=run.signing_time, now=run.at)
    if run.revocation.notices:
        run.notices.extend(
            Finding("revocation", code, True, message) for code, message in run.revocation.notices
        )
    return f"not revoked for a signature at {time_text(run.signing_time)}"


def policy_step(run: SignerFacts, statement: Statement) -> str:
    """Step 7 (policy): the caller's requirements hold for the established facts.

    Raises:
        PolicyError: The codes of the policy (``policy.*``).
    """
    assert run.signer is not None and run.signing_time and run.time_source
    facts = VerifiedFacts(
        run.signer, statement, run.signing_time, run.time_source, run.at, run.revocation
    )
    if run.chain is not None:
        check_certified(run.policy, facts)
    else:
        run.policy.check(facts)
    return "policy satisfied"


def _as_bytes(data: bytearray | memoryview) -> bytes:
    """The bytes of ``data``.

    Raises:
        BundleFormatError: ``bundle.malformed`` for a view that cannot be read (released).
    """
    try:
        return bytes(data)
    except ValueError as exc:
        raise BundleFormatError(f"the bundle's bytes cannot be read: {exc}") from exc


def refused_bundle(error: BundleFormatError, policy: Policy) -> VerificationResult:
    """The result :meth:`Verifier.check` gives for a bundle its parse step refuses with ``error``,
    for a caller that parsed the bundle itself, once (:meth:`Bundle.from_decoded`), to hand the
    same :class:`Bundle` to several verifiers."""
    finding = Finding("parse", error.code, False, error.message)
    return VerificationResult(verified=False, findings=(finding,), warnings=policy.warnings)


def certificate_signer(
    certificates: tuple[x509.Certificate, ...],
    trust: TrustRoot,
    key: VerifyingKey,
    signing_time: datetime,
) -> tuple[ValidatedChain, SignerIdentity]:
    """Verification step 4: validate the chain at the signing time, check that the bundle carries
    exactly the path's first certificates, and name the signer (also for model signatures).

    Raises:
        CertificateError: The codes of :func:`validate_chain`, ``certificate.malformed`` or
            ``certificate.chain.extra``.
    """
    try:
        chain = validate_chain(certificates, trust, signing_time)
    except ValueError as exc:
        # DER is parsed lazily: a field that fails to parse surfaces only when read.
        raise CertificateError(
            f"a certificate of the chain cannot be read: {exc}", code=Code.CERTIFICATE_MALFORMED
        ) from exc
    _check_on_path(certificates, chain.ders)
    signer = SignerIdentity(
        SignerKind.CERTIFICATE,
        chain.identities,
        key.key_id,
        chain.issuer,
        chain.issuer_subjects,
        chain.issuer_key_ids,
        chain.issuer_fingerprints,
    )
    return chain, signer


def _check_on_path(certificates: tuple[x509.Certificate, ...], path: tuple[bytes, ...]) -> None:
    """The bundle's certificates must be the validated path's first certificates (``path``: their
    DER), in order: a repeated, unused or misplaced certificate would make a second valid bundle.

    Raises:
        CertificateError: ``certificate.chain.extra``.
    """
    for position, der in enumerate(certificate_ders(certificates)):
        if position >= len(path) or der != path[position]:
            raise CertificateError(
                f"bundle certificate {position + 1} of {len(certificates)} (sha256 "
                f"{certificate_sha256(certificates[position])}) is not certificate {position + 1} "
                "of the validated path; a bundle carries the path from the leaf, in order, and "
                "nothing else",
                code=Code.CERTIFICATE_CHAIN_EXTRA,
            )


def _legacy_shaped(sig: bytes) -> bool:
    """A 64-byte P-256 signature that is not DER: the ``r || s`` form of bundles made before
    DER (bundle-v1.md §5.1)."""
    return len(sig) == P256_SIGNATURE_BYTES and not is_ecdsa_der(sig)


def _check_legacy_time(bundle: Bundle) -> None:
    """A legacy signature counts only when a log entry dates it before the cutover; the log step
    then proves every entry, so the time checked here is proven or the run fails.

    Raises:
        SignatureInvalidError: ``signature.legacy``.
    """
    cutover = int(LEGACY_P1363_CUTOVER.timestamp())
    times = [entry.integrated_time for entry in bundle.tlog_entries]
    if not times or min(times) >= cutover:
        when = "has no log entry" if not times else "was logged after the cutover"
        raise SignatureInvalidError(
            f"legacy r || s P-256 signature: accepted only with a log time before "
            f"{format_time(LEGACY_P1363_CUTOVER)}, and this bundle {when}; sign again to get "
            "a DER signature",
            code=Code.SIGNATURE_LEGACY,
        )


class LoggedSignature(Protocol):
    """What step 4 reads of a bundle or a model signature."""

    @property
    def envelope(self) -> Envelope: ...

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]: ...

    @property
    def tlog_entries(self) -> tuple[TlogEntry, ...]: ...


def _signer_binding(
    certificates: Sequence[x509.Certificate], key: VerifyingKey
) -> tuple[bytes, bytes | None]:
    """:func:`~provenance.tlog.entry.signer_binding`, with the leaf's DER written once per
    certificate object (:func:`~provenance.identity.profile.certificate_der`)."""
    if not certificates:
        return signer_binding(certificates, key)
    der = certificate_der(certificates[0])
    return certificate_facts(der)[0], der


@quick_init
@dataclass(frozen=True)
class ProvenTime:
    """The outcome of verification step 4: the signing time, where it comes from, the proofs."""

    signing_time: datetime
    source: TimeSource
    proofs: tuple[LogProof, ...]

    @property
    def summary(self) -> str:
        """The log step's message."""
        if self.source is TimeSource.VERIFICATION:
            return "not logged: certificates are checked at the verification time"
        return f"logged at {time_text(self.signing_time)} in {len(self.proofs)} log(s)"


def prove_signing_time(
    bundle: LoggedSignature,
    key: VerifyingKey,
    trust: TrustRoot,
    log_verifiers: Sequence[NoteVerifier],
    *,
    at: datetime,
    what: str,
) -> ProvenTime:
    """Verification step 3 (log) for a bundle (or a model signature, ``what`` names it in messages):
    the earliest proven log time, or ``at`` when unlogged and the trust root allows it.

    Raises:
        LogProofError: ``log.missing`` and the codes of :func:`prove_log_entries`.
    """
    if not bundle.tlog_entries:
        if trust.require_log:
            raise LogProofError(
                f"trust root {trust.name!r} requires log inclusion; {what} has no log entry",
                code=Code.LOG_MISSING,
            )
        return ProvenTime(at, TimeSource.VERIFICATION, ())
    proofs = prove_log_entries(
        bundle.tlog_entries, bundle.envelope, bundle.certificates, key, log_verifiers, at=at
    )
    earliest = (
        proofs[0].integrated_time if len(proofs) == 1 else min(p.integrated_time for p in proofs)
    )
    return ProvenTime(earliest, TimeSource.LOG, tuple(proofs))


def prove_log_entries(
    entries: Sequence[TlogEntry],
    envelope: Envelope,
    certificates: Sequence[x509.Certificate],
    key: VerifyingKey,
    log_verifiers: Sequence[NoteVerifier],
    *,
    at: datetime,
) -> list[LogProof]:
    """Verification step 4 for each entry: rebuild the leaf from this envelope and signer, check
    its inclusion in a trusted log, and refuse a log time after ``at`` (plus the skew).

    Raises:
        LogProofError: The codes of :func:`verify_tlog_entry`, ``log.entry.malformed`` or
            ``log.entry.future``.
    """
    signer_sha256, signer_der = _signer_binding(certificates, key)
    envelope_sha256 = envelope.sha256()
    proofs = []
    for entry in entries:
        expected = LogEntry(envelope_sha256, signer_sha256, entry.integrated_time, signer_der)
        moment = _integrated_moment(verify_tlog_entry(entry, expected, log_verifiers))
        _refuse_future(moment, at)
        proofs.append(LogProof(entry.origin, entry.log_index, moment))
    return proofs


def _certificate_key(certificate: x509.Certificate) -> VerifyingKey:
    """The leaf certificate's key, cached per certificate DER (:data:`_LEAF_KEYS`).

    identity-v1 §2: a leaf's key is ECDSA P-256. Another type (Ed25519, P-384, RSA) fails here,
    in the signature step, because the key is chosen here.

    Raises:
        CertificateError: ``certificate.malformed`` (unreadable key) or ``certificate.profile``
            (a key that is not ECDSA P-256).
    """
    der = certificate_der(certificate)
    key = _LEAF_KEYS.get(der)
    if key is None:
        key = _p256_leaf_key(certificate)
        _LEAF_KEYS.put(der, key)
    return key


def _p256_leaf_key(certificate: x509.Certificate) -> VerifyingKey:
    """:func:`leaf_key`, refused unless ECDSA P-256.

    Raises:
        CertificateError: As :func:`_certificate_key`.
    """
    key = leaf_key(certificate)
    if not isinstance(key, P256VerifyingKey):
        raise CertificateError(
            f"the leaf certificate's key is {key.key_type.value}; identity-v1 §2 requires an"
            " ECDSA P-256 key",
            code=Code.CERTIFICATE_PROFILE,
        )
    return key


class _LeafKeys:
    """Leaf keys by the exact DER of their certificate; only keys that were accepted are kept."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[bytes, VerifyingKey] = {}
        self._lock = threading.Lock()

    def get(self, der: bytes) -> VerifyingKey | None:
        return self._items.get(der)

    def put(self, der: bytes, key: VerifyingKey) -> None:
        with self._lock:
            self._items[der] = key
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


LEAF_KEY_CACHE_SIZE = 1024
_LEAF_KEYS = _LeafKeys(LEAF_KEY_CACHE_SIZE)


def check_payload_type(envelope: Envelope) -> None:
    """Step 1's envelope rule for bundles and model signatures: an in-toto statement.

    Raises:
        BundleFormatError: ``envelope.payload_type`` for any other payload type.
    """
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE:
        raise BundleFormatError(
            f"payloadType {INTOTO_PAYLOAD_TYPE} expected, found {envelope.payload_type!r}",
            code=Code.ENVELOPE_PAYLOAD_TYPE,
        )


def leaf_key(certificate: x509.Certificate) -> VerifyingKey:
    """The leaf certificate's key, of any type this library verifies with.

    Raises:
        CertificateError: ``certificate.malformed`` (unreadable key) or ``certificate.profile``
            (a key type this library does not verify with).
    """
    try:
        public_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateError(
            f"the leaf certificate's public key cannot be read: {exc}",
            code=Code.CERTIFICATE_MALFORMED,
        ) from exc
    try:
        return verifying_key_from_cryptography(public_key)
    except KeyFormatError as exc:
        raise CertificateError(str(exc), code=Code.CERTIFICATE_PROFILE) from exc


def _integrated_moment(seconds: int) -> datetime:
    """The proven integrated time as a datetime; a time past year 9999 (which only a log key
    holder can sign) is a malformed entry, not a crash."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise LogProofError(
            f"integrated time {seconds} is not a representable date", code=Code.LOG_ENTRY_MALFORMED
        ) from exc


@lru_cache(maxsize=256)
def time_text(moment: datetime) -> str:
    """:func:`~provenance.statement.format_time`, remembered per instant (a pure function of it):
    a verification writes its signing time into three messages, and ``strftime`` is slow."""
    return format_time(moment)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    return moment.astimezone(UTC)


LOG_CLOCK_SKEW = timedelta(seconds=300)


def _refuse_future(moment: datetime, at: datetime) -> None:
    """A log time later than ``at`` plus the skew of tlog-v1 §7 is not a time the log proved.

    Raises:
        LogProofError: ``log.entry.future``.
    """
    if moment > at + LOG_CLOCK_SKEW:
        raise LogProofError(
            f"the log dates the entry {format_time(moment)}, after the verification time "
            f"{format_time(at)} (more than {LOG_CLOCK_SKEW.seconds} s of clock skew)",
            code=Code.LOG_ENTRY_FUTURE,
        )
