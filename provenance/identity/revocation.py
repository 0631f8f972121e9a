"""Revocation checking against the trust root's CRLs, with the signing-time rule.

A revoked certificate invalidates signatures made at or after its revocation date, or at or after
its invalidityDate when the reason is keyCompromise and that date is earlier. Signatures made
before stay valid: this is what a proven (logged) signing time buys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID

from provenance.codes import Code
from provenance.display import printable
from provenance.errors import CertificateError
from provenance.identity.chain import ValidatedChain
from provenance.identity.profile import Kept, as_utc, describe
from provenance.identity.trust import TrustRoot

REVOKED = Code.CERTIFICATE_REVOKED
CRL_INVALID = Code.CERTIFICATE_CRL_INVALID
CRL_STALE = Code.CERTIFICATE_CRL_STALE
CRL_MISSING = Code.CERTIFICATE_CRL_MISSING
_PROCESSED_CRL_EXTENSIONS = frozenset(
    {ExtensionOID.CRL_NUMBER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER}
)
"""CRL extensions this verifier processes; any other critical one makes the CRL unusable."""
_PROCESSED_ENTRY_EXTENSIONS = frozenset(
    {CRLEntryExtensionOID.CRL_REASON, CRLEntryExtensionOID.INVALIDITY_DATE}
)


@dataclass(frozen=True)
class RevocationReport:
    """What the revocation check could see.

    Attributes:
        checked: Subjects (RFC 4514) of the chain CAs whose CRL was checked.
        unchecked: Subjects of the chain CAs for which the trust root holds no CRL.
        stale: Subjects of the CAs whose CRL's nextUpdate is before ``now``.
        missing: The subject of the leaf's issuer when the trust root names CRL locations (so
            promises CRLs) but holds none of that CA.
        notices: ``(code, message)`` per stale or missing CRL (``certificate.crl.stale``,
            ``certificate.crl.missing``): advisory, made fatal by a policy.
    """

    checked: tuple[str, ...]
    unchecked: tuple[str, ...]
    stale: tuple[str, ...]
    missing: tuple[str, ...] = ()
    notices: tuple[tuple[str, str], ...] = ()


def check_revocation(
    validated: ValidatedChain, trust: TrustRoot, *, signing_time: datetime, now: datetime
) -> RevocationReport:
    """Check every certificate of ``validated`` against the CRLs of ``trust``.

    A CRL applies to a CA of the chain when it carries the CA's name and is the CA's by key: its
    authorityKeyIdentifier names the CA's key, or (without one) its signature verifies with that
    key. CRLs of other CAs, same-named ones included, are ignored. Every applicable CRL must be
    one RFC 5280 allows (see :func:`_check_crl`); a revocation listed in any of them counts;
    freshness is that of the newest (highest cRLNumber).

    What does not depend on time (which CRLs apply, their refusals, the chain's entries in them)
    is read once per chain and set of CRLs (:class:`_Plans`), the part that does not depend on
    the leaf once per path of CAs (:func:`_ca_plan`); the times are compared on every call.

    Args:
        validated: The chain :func:`validate_chain` returned.
        trust: The trust root holding the CRLs.
        signing_time: When the signature was made (proven by the log, else the verification time).
        now: The verification time (for CRL freshness).

    Returns:
        Which CAs' CRLs were checked, missing or stale; the caller's policy decides.

    Raises:
        CertificateError: ``certificate.revoked`` when a certificate of the chain was revoked
            at or before ``signing_time``; ``certificate.crl.invalid`` for a CRL that names a chain
            CA's key but is badly signed, from the future, or weaker than RFC 5280.
        ValueError: A naive ``signing_time`` or ``now`` (a bug of the caller, not bad input).
    """
    signed_at = as_utc(signing_time, ValueError, "signing time")
    current = as_utc(now, ValueError, "now")
    plan = _PLANS.get(validated, trust)
    for check in plan.checks:
        _check_crl(check.facts, check.issued, current)
        _check_entry(check.entry, signed_at)
    stale = [
        (name, notice)
        for name, next_update in plan.freshness
        if (notice := _staleness(next_update, name, current)) is not None
    ]
    if not stale:
        return plan.fresh_report
    report = plan.fresh_report
    notices = tuple((CRL_STALE, notice) for _, notice in stale) + report.notices
    return RevocationReport(
        report.checked, report.unchecked, tuple(name for name, _ in stale), report.missing, notices
    )


@dataclass(frozen=True)
class _ListedEntry:
    """A chain certificate's entry in a CRL: when its revocation takes effect, or why the entry
    cannot be read.

    Attributes:
        malformed: The refusal of an unreadable reason or invalidity date, else None.
        effective: The revocation date, or the earlier invalidityDate for keyCompromise (None
            for a malformed entry).
        revoked: The start of the revocation message (certificate, reason, effective time).
    """

    malformed: str | None
    effective: datetime | None
    revoked: str


@dataclass(frozen=True)
class _CrlCheck:
    """One applicable CRL of one chain CA, as its checks read it.

    Attributes:
        facts: The CRL's time-independent facts for the CA (:func:`_crl_facts`).
        issued: Its lastUpdate.
        entry: The entry of the certificate the CA issued, or None when it is not listed.
    """

    facts: _CrlFacts
    issued: datetime
    entry: _ListedEntry | None


@dataclass(frozen=True)
class _RevocationPlan:
    """The time-independent part of :func:`check_revocation` for one chain and set of CRLs.

    Attributes:
        checks: The applicable CRLs, chain CA by chain CA, in the order they are checked.
        freshness: Per CA with a CRL, its subject and the newest CRL's nextUpdate.
        fresh_report: The report when no CRL is stale.
    """

    checks: tuple[_CrlCheck, ...]
    freshness: tuple[tuple[str, datetime | None], ...]
    fresh_report: RevocationReport


@dataclass(frozen=True)
class _CaPlan:
    """The part of a :class:`_RevocationPlan` that does not depend on the leaf, for one path of
    CAs and set of CRLs: shared by every leaf those CAs issued.

    Attributes:
        leaf_crls: The applicable CRLs of the leaf's issuer, each with its facts and lastUpdate.
        checks: The applicable CRLs of each CA above the leaf's issuer, in the order they are
            checked (after ``leaf_crls``).
        freshness: As :attr:`_RevocationPlan.freshness`.
        fresh_report: As :attr:`_RevocationPlan.fresh_report`.
    """

    leaf_crls: tuple[tuple[x509.CertificateRevocationList, _CrlFacts, datetime], ...]
    checks: tuple[_CrlCheck, ...]
    freshness: tuple[tuple[str, datetime | None], ...]
    fresh_report: RevocationReport

    def for_leaf(self, leaf: x509.Certificate) -> _RevocationPlan:
        """The plan of the chain of ``leaf`` (issued by the path's first CA) and these CAs."""
        leaf_checks = tuple(
            _CrlCheck(facts, issued, _listed(crl, leaf)) for crl, facts, issued in self.leaf_crls
        )
        return _RevocationPlan(leaf_checks + self.checks, self.freshness, self.fresh_report)


def _ca_plan(validated: ValidatedChain, trust: TrustRoot) -> _CaPlan:
    """Read which CRLs of ``trust`` apply to which CA of ``validated`` and what they list of the
    CAs (not of the leaf)."""
    leaf_crls: tuple[tuple[x509.CertificateRevocationList, _CrlFacts, datetime], ...] = ()
    checks: list[_CrlCheck] = []
    checked: list[str] = []
    freshness: list[tuple[str, datetime | None]] = []
    names = validated.issuer_subjects
    for index, (issuer_der, name) in enumerate(zip(validated.ders[1:], names, strict=True)):
        crls = []
        for crl, crl_der in zip(trust.crls, trust.crl_ders, strict=True):
            facts = _crl_facts(crl_der, issuer_der)
            if facts.belongs:
                crls.append((crl, facts))
        if index == 0:
            leaf_crls = tuple((crl, facts, crl.last_update_utc) for crl, facts in crls)
        else:
            subject = validated.chain[index]
            checks.extend(
                _CrlCheck(facts, crl.last_update_utc, _listed(crl, subject)) for crl, facts in crls
            )
        if crls:
            checked.append(name)
            newest = max(crls, key=lambda pair: pair[1].number)[0]
            freshness.append((name, newest.next_update_utc))
    missing = () if names[0] in checked or not trust.crl_locations else (names[0],)
    notices = ((CRL_MISSING, _missing_message(names[0], trust.crl_locations)),) if missing else ()
    unchecked = tuple(name for name in names if name not in checked)
    report = RevocationReport(tuple(checked), unchecked, (), missing, notices)
    return _CaPlan(leaf_crls, tuple(checks), tuple(freshness), report)


_PlanKey = tuple[tuple[bytes, ...], tuple[bytes, ...], tuple[str, ...]]


class _Plans:
    """Revocation plans by the exact bytes they are read from: the DER of the validated path,
    of each CRL of the trust root, and its CRL locations. A new CRL is new bytes, so a new plan.
    A new chain's plan is made from the plan of its CAs (:class:`_CaPlan`, by the same bytes but
    the leaf's) and the leaf's entries."""

    def __init__(self, size: int) -> None:
        self._plans: Kept[_PlanKey, _RevocationPlan] = Kept(size)
        self._ca_plans: Kept[_PlanKey, _CaPlan] = Kept(size)

    def get(self, validated: ValidatedChain, trust: TrustRoot) -> _RevocationPlan:
        key = (validated.ders, trust.crl_ders, trust.crl_locations)
        plan = self._plans.get(key)
        if plan is None:
            ca_key = (validated.ders[1:], trust.crl_ders, trust.crl_locations)
            ca_plan = self._ca_plans.get(ca_key)
            if ca_plan is None:
                ca_plan = self._ca_plans.put(ca_key, _ca_plan(validated, trust))
            plan = self._plans.put(key, ca_plan.for_leaf(validated.leaf))
        return plan

    def clear(self) -> None:
        self._plans.clear()
        self._ca_plans.clear()


REVOCATION_PLAN_CACHE_SIZE = 1024
_PLANS = _Plans(REVOCATION_PLAN_CACHE_SIZE)


def _staleness(next_update: datetime | None, name: str, now: datetime) -> str | None:
    """The notice for a CRL with ``next_update`` when that is before ``now``, else ``None``."""
    if next_update is None or next_update >= now:
        return None
    late = now - next_update
    return (
        f"the CRL of {printable(name)} is stale: its nextUpdate {next_update.isoformat()} is"
        f" {late.days} days {late.seconds // 3600} hours before the verification time;"
        " revocations since then are unknown"
    )


def _missing_message(name: str, locations: tuple[str, ...]) -> str:
    return (
        f"the trust root names CRL locations {list(locations)} but holds no CRL of"
        f" {printable(name)}: the leaf's revocation was not checked"
    )


def _belongs_to(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """Whether ``crl`` is ``issuer``'s: same name, and its AKI names ``issuer``'s key (or, with no
    AKI, its signature verifies with that key). A CRL whose AKI names the key but whose signature
    does not verify belongs to the CA and is refused by :func:`_check_crl`."""
    if crl.issuer != issuer.subject:
        return False
    claimed = _authority_key_id(crl)
    if claimed is None:
        return _signed_by(crl.public_bytes(Encoding.DER), issuer.public_bytes(Encoding.DER))
    return claimed == _subject_key_id(issuer)


def _authority_key_id(crl: x509.CertificateRevocationList) -> bytes | None:
    try:
        aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return aki.key_identifier


def _subject_key_id(certificate: x509.Certificate) -> bytes:
    try:
        return certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


@dataclass(frozen=True)
class _CrlFacts:
    """What one CRL is with respect to one CA, independent of time.

    Attributes:
        belongs: Whether the CRL is the CA's (see :func:`_belongs_to`).
        who: ``CRL of <the CA's subject>``, for messages.
        unsigned: The refusal when the CA's key did not sign it, else None.
        unusable: The first other refusal of :func:`_check_crl` that does not depend on time.
        number: Its cRLNumber (0 when it has none; such a CRL is refused anyway).
    """

    belongs: bool
    who: str
    unsigned: str | None
    unusable: str | None
    number: int


@lru_cache(maxsize=256)
def _crl_facts(crl_der: bytes, issuer_der: bytes) -> _CrlFacts:
    """The time-independent facts of the CRL ``crl_der`` for the CA ``issuer_der``.

    Cached per (CRL, issuer) bytes: the answer depends on nothing else (a new CRL is new bytes).
    """
    crl = x509.load_der_x509_crl(crl_der)
    issuer = x509.load_der_x509_certificate(issuer_der)
    who = f"CRL of {printable(issuer.subject.rfc4514_string())}"
    if not _belongs_to(crl, issuer):
        return _CrlFacts(False, who, None, None, 0)
    unsigned = None
    if not _signed_by(crl_der, issuer_der):
        unsigned = f"{who} names that CA's key but is not signed by it"
    unusable = _unusable(crl, issuer, who)
    number = 0 if unusable else _crl_number(crl)
    return _CrlFacts(True, who, unsigned, unusable, number)


def _check_crl(facts: _CrlFacts, issued: datetime, now: datetime) -> None:
    """Refuse a CRL of a chain CA (its time-independent ``facts``, its lastUpdate ``issued``)
    that RFC 5280 would not let a verifier use.

    Raises:
        CertificateError: ``certificate.crl.invalid``: not signed by the issuer's key, issued after
            ``now``, no nextUpdate, no cRLNumber or a critical one, an issuer without cRLSign, or a
            critical extension this verifier does not process (delta and partitioned CRLs).
    """
    if facts.unsigned is not None:
        raise _invalid(facts.unsigned)
    if issued > now:
        raise _invalid(
            f"{facts.who} is issued {issued.isoformat()}, after the verification time"
            f" {now.isoformat()}"
        )
    if facts.unusable is not None:
        raise _invalid(facts.unusable)


def _unusable(
    crl: x509.CertificateRevocationList, issuer: x509.Certificate, who: str
) -> str | None:
    """The first refusal of :func:`_check_crl` after the signature and time checks, or None."""
    try:
        _check_structure(crl, issuer, who)
    except CertificateError as exc:
        return exc.message
    return None


def _check_structure(
    crl: x509.CertificateRevocationList, issuer: x509.Certificate, who: str
) -> None:
    """RFC 5280's demands on a CRL that do not depend on time or its signature.

    Raises:
        CertificateError: ``certificate.crl.invalid``.
    """
    if crl.next_update_utc is None:
        raise _invalid(f"{who} has no nextUpdate (RFC 5280 §5.1.2.5)")
    _check_crl_number(crl, who)
    _check_crl_sign(issuer, who)
    unknown = [
        extension.oid.dotted_string
        for extension in crl.extensions
        if extension.critical and extension.oid not in _PROCESSED_CRL_EXTENSIONS
    ]
    unknown += [
        extension.oid.dotted_string
        for entry in crl
        for extension in entry.extensions
        if extension.critical and extension.oid not in _PROCESSED_ENTRY_EXTENSIONS
    ]
    if unknown:
        raise _invalid(
            f"{who} has critical extensions this verifier does not process (delta, partitioned"
            f" or indirect CRLs): {unknown}"
        )


def _check_crl_number(crl: x509.CertificateRevocationList, who: str) -> None:
    try:
        extension = crl.extensions.get_extension_for_class(x509.CRLNumber)
    except x509.ExtensionNotFound:
        raise _invalid(f"{who} has no cRLNumber (RFC 5280 §5.2.3)") from None
    if extension.critical:
        raise _invalid(f"{who} marks its cRLNumber critical (RFC 5280 §5.2.3: non-critical)")


def _check_crl_sign(issuer: x509.Certificate, who: str) -> None:
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.crl_sign:
        raise _invalid(f"{who}: the CA's keyUsage lacks cRLSign (RFC 5280 §4.2.1.3)")


def _invalid(message: str) -> CertificateError:
    return CertificateError(message, code=CRL_INVALID)


@lru_cache(maxsize=256)
def _signed_by(crl_der: bytes, issuer_der: bytes) -> bool:
    """Whether the CRL ``crl_der`` is signed by the key of the certificate ``issuer_der``.

    Cached per (CRL, issuer) bytes: the answer depends on nothing else.
    """
    public_key = x509.load_der_x509_certificate(issuer_der).public_key()
    return isinstance(
        public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    ) and x509.load_der_x509_crl(crl_der).is_signature_valid(public_key)


def _listed(
    crl: x509.CertificateRevocationList, certificate: x509.Certificate
) -> _ListedEntry | None:
    """``certificate``'s entry in ``crl``, read for :func:`_check_entry`; None when not listed."""
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if entry is None:
        return None
    try:
        reason = _reason(entry)
        invalid_from = _invalidity_date(entry)
    except ValueError as exc:
        return _ListedEntry(f"malformed CRL entry: {exc}", None, "")
    effective = entry.revocation_date_utc
    if reason is x509.ReasonFlags.key_compromise and invalid_from is not None:
        effective = min(effective, invalid_from)
    revoked = f"{describe(certificate)} is revoked ({reason.value}) from {effective.isoformat()};"
    return _ListedEntry(None, effective, revoked)


def _check_entry(entry: _ListedEntry | None, signed_at: datetime) -> None:
    """Refuse a signature made when the certificate's CRL entry had taken effect.

    Raises:
        CertificateError: ``certificate.revoked``, or ``certificate.crl.invalid`` for an entry
            whose reason or invalidity date cannot be read.
    """
    if entry is None:
        return
    if entry.malformed is not None or entry.effective is None:
        raise CertificateError(entry.malformed or "malformed CRL entry", code=CRL_INVALID)
    if signed_at >= entry.effective:
        raise CertificateError(
            f"{entry.revoked} the signature was made at {signed_at.isoformat()}", code=REVOKED
        )


def _reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return x509.ReasonFlags.unspecified


def _invalidity_date(entry: x509.RevokedCertificate) -> datetime | None:
    try:
        return entry.extensions.get_extension_for_class(
            x509.InvalidityDate
        ).value.invalidity_date_utc
    except x509.ExtensionNotFound:
        return None
