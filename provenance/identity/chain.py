"""Certificate chain validation through pyca/cryptography's ``x509.verification``.

Only the trust root's roots are anchors. Certificates a bundle carries, and the trust root's
intermediates, are untrusted path-building material. Profile rules (documentSigning EKU,
digitalSignature, a SAN identity, AKI) are extension policies of the verifier; no path is built
by hand. Failures map onto stable codes: ``certificate.untrusted``, ``certificate.expired``,
``certificate.not_yet_valid``, ``certificate.profile``, ``certificate.malformed``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    ClientVerifier,
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
    VerifiedClient,
)

from provenance.codes import Code
from provenance.errors import AuthorityError, CertificateError
from provenance.identity.names import check_identity_text, identity_of
from provenance.identity.profile import (
    DER_CACHE_SIZE,
    DOCUMENT_SIGNING,
    IDENTITY_LIMITS,
    DerCache,
    Kept,
    as_utc,
    certificate_ders,
    describe,
    spki_sha256,
    within_validity,
)
from provenance.identity.trust import TrustRoot

UNTRUSTED = Code.CERTIFICATE_UNTRUSTED
EXPIRED = Code.CERTIFICATE_EXPIRED
NOT_YET_VALID = Code.CERTIFICATE_NOT_YET_VALID
PROFILE = Code.CERTIFICATE_PROFILE
MALFORMED = Code.CERTIFICATE_MALFORMED

_EKU_NAMES = {
    oid: name.lower()
    for name, oid in vars(ExtendedKeyUsageOID).items()
    if isinstance(oid, x509.ObjectIdentifier)
} | {DOCUMENT_SIGNING: "document_signing"}
_EXTENSION_NAMES = {
    "2.5.29.37": "ExtendedKeyUsage",
    "2.5.29.15": "KeyUsage",
    "2.5.29.17": "SubjectAlternativeName",
    "2.5.29.35": "AuthorityKeyIdentifier",
    "2.5.29.19": "BasicConstraints",
}


@dataclass(frozen=True)
class _CaFacts:
    """What a verification reports of a validated path's CAs (leaf's issuer first, anchor last):
    a function of their DER alone, so kept per the CAs' DER (:data:`_CA_FACTS`).

    Attributes:
        subjects: Each CA's subject (RFC 4514).
        key_ids: SHA-256 (hex) of each CA's SPKI.
        fingerprints: SHA-256 (hex) of each CA's certificate DER.
    """

    subjects: tuple[str, ...]
    key_ids: tuple[str, ...]
    fingerprints: tuple[str, ...]


def _ca_facts(cas: tuple[x509.Certificate, ...], ders: tuple[bytes, ...]) -> _CaFacts:
    """The :class:`_CaFacts` of ``cas`` (whose DER is ``ders``), kept per ``ders``."""
    facts = _CA_FACTS.get(ders)
    if facts is None:
        facts = _CA_FACTS.put(
            ders,
            _CaFacts(
                tuple(_subject_text(certificate) for certificate in cas),
                tuple(spki_sha256(certificate) for certificate in cas),
                tuple(hashlib.sha256(der).hexdigest() for der in ders),
            ),
        )
    return facts


CA_FACTS_CACHE_SIZE = 256
_CA_FACTS: Kept[tuple[bytes, ...], _CaFacts] = Kept(CA_FACTS_CACHE_SIZE)


@dataclass(frozen=True)
class ValidatedChain:
    """A chain that validated to a trust-root anchor.

    Attributes:
        leaf: The end-entity certificate.
        chain: The validated path, leaf first, ending with the trust-root anchor.
        identities: The leaf's SAN URIs and emails (never its CN), in certificate order.
        ders: The DER of each certificate of :attr:`chain`, in order.
    """

    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    identities: tuple[str, ...]
    ders: tuple[bytes, ...]
    _cas: _CaFacts

    @property
    def issuer(self) -> str:
        """The subject (RFC 4514) of the CA that issued the leaf."""
        return self._cas.subjects[0]

    @property
    def issuer_subjects(self) -> tuple[str, ...]:
        """The subjects (RFC 4514) of the chain's CAs, issuer of the leaf first, anchor last."""
        return self._cas.subjects

    @property
    def issuer_key_ids(self) -> tuple[str, ...]:
        """SHA-256 (hex) of each chain CA's SPKI, in the order of :attr:`issuer_subjects`."""
        return self._cas.key_ids

    @property
    def issuer_fingerprints(self) -> tuple[str, ...]:
        """SHA-256 (hex) of each chain CA's certificate DER, in the same order."""
        return self._cas.fingerprints


def _subject_text(certificate: x509.Certificate) -> str:
    """The certificate's subject in RFC 4514 form (cached per certificate DER: CAs recur)."""
    return _SUBJECT_TEXTS.get(certificate, _rfc4514_subject)


def _rfc4514_subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


_SUBJECT_TEXTS: DerCache[str] = DerCache(DER_CACHE_SIZE)


@dataclass(frozen=True, eq=False)
class ChainProfile:
    """The extension policies a path is validated under (compared and hashed by identity).

    Attributes:
        name: For messages, e.g. ``document`` or ``media``.
        ee_policy: The leaf's extension policy.
        ca_policy: The CA certificates' extension policy.
    """

    name: str
    ee_policy: ExtensionPolicy
    ca_policy: ExtensionPolicy


_ChainKey = tuple[tuple[bytes, ...], tuple[bytes, ...], tuple[bytes, ...], ChainProfile]
VALIDATED_CACHE_SIZE = 4096
STORE_CACHE_SIZE = 8
VERIFIER_CACHE_SIZE = 256
REFUSED_CACHE_SIZE = 4096
CA_RSA_EXPONENT = 65537
CA_RSA_BITS = (2048, 4096)
CA_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
"""The keys a CA certificate carried in a bundle may have (identity-v1 §2): those the path
validator accepts, with the RSA exponent fixed and the modulus capped so that a signature check
costs what an ordinary CA's does."""


class _HashedKey:
    """A :data:`_ChainKey` (the DER of the chain's, the anchors' and the trust root's intermediate
    certificates, and the profile) hashed once (a lookup hashes it twice)."""

    __slots__ = ("_hash", "key")

    def __init__(self, key: _ChainKey) -> None:
        self.key = key
        self._hash = hash(key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _HashedKey) and self._hash == other._hash and self.key == other.key


class _ValidatedChains:
    """Chains that validated, each with the window in which that validation holds.

    ``x509.verification`` uses the time only to check each certificate's validity, both to accept
    the path and to choose it: a candidate (a bundle certificate, an anchor or an intermediate of
    the trust root) that is not valid is passed over, so another path may be found once one starts
    or stops being valid. A validation is reused only at moments where every candidate is valid or
    not exactly as at the moment it was made (:func:`_same_validity_window`), which includes the
    path's own certificates. That window is exact because the validator is given only the
    candidates valid at the exact time (:func:`_build_path`): a fresh validation anywhere in it
    sees the same candidates and builds the same path. Keys are the certificates' DER with the DER
    of the trust root's anchors and intermediates: nothing is shared across trust roots.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_HashedKey, tuple[ValidatedChain, datetime, datetime]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, key: _HashedKey, moment: datetime) -> ValidatedChain | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
        validated, start, end = entry
        return validated if start <= moment <= end else None

    def put(
        self,
        key: _HashedKey,
        validated: ValidatedChain,
        moment: datetime,
        candidates: Sequence[tuple[datetime, datetime]],
    ) -> None:
        start, end = _same_validity_window(moment, candidates)
        with self._lock:
            self._entries[key] = (validated, start, end)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_VALIDATED = _ValidatedChains(VALIDATED_CACHE_SIZE)
_TICK = timedelta(microseconds=1)


def _same_validity_window(
    moment: datetime, candidates: Sequence[tuple[datetime, datetime]]
) -> tuple[datetime, datetime]:
    """The moments at which each certificate whose (not_before, not_after) is in ``candidates``
    is valid (not_before <= t <= not_after) or not exactly as at ``moment``: after every validity
    boundary at or before it, before every one after it (``moment`` itself on a side without
    boundaries)."""
    low: datetime | None = None
    high: datetime | None = None
    for start, end in candidates:
        if start <= moment:
            low = start if low is None or start > low else low
        else:
            edge = start - _TICK
            high = edge if high is None or edge < high else high
        if end < moment:
            edge = end + _TICK
            low = edge if low is None or edge > low else low
        else:
            high = end if high is None or end < high else high
    return moment if low is None else low, moment if high is None else high


def _validity(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    """The certificate's (not_before, not_after) in UTC."""
    return certificate.not_valid_before_utc, certificate.not_valid_after_utc


def _candidate_validities(
    chain: Sequence[x509.Certificate], trust: TrustRoot
) -> list[tuple[datetime, datetime]]:
    """:func:`_validity` of every path candidate: the bundle's certificates, the trust root's
    anchors and intermediates (the CAs' kept per DER, the trust root's per its DER)."""
    kept = _TRUST_VALIDITIES.get((trust.root_ders, trust.intermediate_ders))
    if kept is None:
        kept = _TRUST_VALIDITIES.put(
            (trust.root_ders, trust.intermediate_ders),
            tuple(_validity(cert) for cert in (*trust.roots, *trust.intermediates)),
        )
    return [_validity(chain[0]), *(_VALIDITIES.get(ca, _validity) for ca in chain[1:]), *kept]


_VALIDITIES: DerCache[tuple[datetime, datetime]] = DerCache(DER_CACHE_SIZE)
_TRUST_VALIDITIES: Kept[
    tuple[tuple[bytes, ...], tuple[bytes, ...]], tuple[tuple[datetime, datetime], ...]
] = Kept(STORE_CACHE_SIZE)


class _RefusedChains:
    """Chains refused for a reason no validation time changes (no signature path to an anchor, a
    CA key outside the profile), by the same keys as :class:`_ValidatedChains`: a junk chain sent
    again costs a dictionary look-up, not another round of signature checks."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_HashedKey, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _HashedKey) -> tuple[str, str] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: _HashedKey, error: CertificateError) -> None:
        with self._lock:
            self._entries[key] = (error.message, error.code)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_REFUSED = _RefusedChains(REFUSED_CACHE_SIZE)


class _TimelessRefusalError(CertificateError):
    """A refusal that holds at every validation time, so :data:`_REFUSED` keeps it."""


class _ProfileViolationError(ValueError):
    """Raised by extension validators; its message reaches the caller's CertificateError."""


def validate_chain(
    chain: Sequence[x509.Certificate],
    trust: TrustRoot,
    at: datetime,
    profile: ChainProfile | None = None,
) -> ValidatedChain:
    """Validate ``chain`` (leaf first) to one of ``trust.roots`` at time ``at``.

    Self-signed certificates in ``chain`` are dropped before path building: a root carried in
    a bundle is never an anchor, and as an intermediate it would only lead the path builder in
    circles (into misleading pathLen errors). Before any signature is checked, every certificate
    after the leaf must have a CA key of the profile (:data:`CA_CURVES`, RSA of
    :data:`CA_RSA_BITS` with exponent :data:`CA_RSA_EXPONENT`). Refusals that no validation time
    changes are remembered like validated chains.

    Args:
        chain: The leaf, then any intermediates (a root in here is never trusted).
        trust: The trust root; only its ``roots`` are anchors.
        at: The time to validate at: the proven signing time, else the verification time.
        profile: The extension policies; default :data:`DOCUMENT_PROFILE` (bundles).

    Raises:
        CertificateError: ``certificate.untrusted``, ``certificate.expired``,
            ``certificate.not_yet_valid``, ``certificate.profile`` or ``certificate.malformed``.
        ValueError: ``at`` is a naive datetime (a bug of the caller, not bad input).
    """
    if not chain:
        raise CertificateError("the certificate chain is empty", code=MALFORMED)
    moment = as_utc(at, ValueError, "validation time")
    if not trust.roots:
        raise CertificateError(f"trust root {trust.name!r} holds no root certificates")
    profile = profile or DOCUMENT_PROFILE
    key = _HashedKey((certificate_ders(chain), trust.root_ders, trust.intermediate_ders, profile))
    cached = _VALIDATED.get(key, moment)
    if cached is not None:
        return cached
    refused = _REFUSED.get(key)
    if refused is not None:
        raise _TimelessRefusalError(refused[0], code=Code(refused[1]))
    try:
        validated = _validate_uncached(chain, trust, moment, profile)
    except _TimelessRefusalError as exc:
        _REFUSED.put(key, exc)
        raise
    _VALIDATED.put(key, validated, moment, _candidate_validities(chain, trust))
    return validated


def _check_ca_key(certificate: x509.Certificate) -> None:
    """Refuse a bundle certificate whose key is not a CA key of the profile (identity-v1 §2);
    certificates whose key passed are remembered by DER (the same CAs come in every bundle).

    Raises:
        CertificateError: As :func:`_check_ca_key_uncached`.
    """
    _CA_KEYS_PASSED.get(certificate, _check_ca_key_uncached)


def _check_ca_key_uncached(certificate: x509.Certificate) -> bool:
    """:func:`_check_ca_key` itself; True when the key passes.

    Raises:
        CertificateError: ``certificate.profile`` (another algorithm, curve, RSA exponent or
            size) or ``certificate.malformed`` (a key that does not parse).
    """
    try:
        key = certificate.public_key()
    except UnsupportedAlgorithm as exc:
        raise _TimelessRefusalError(
            f"CA certificate {describe(certificate)} has a key of an unsupported algorithm: {exc}",
            code=PROFILE,
        ) from exc
    except ValueError as exc:
        raise CertificateError(
            f"CA certificate {describe(certificate)} has an unreadable key: {exc}", code=MALFORMED
        ) from exc
    problem = _ca_key_problem(key)
    if problem is not None:
        raise _TimelessRefusalError(
            f"CA certificate {describe(certificate)}: {problem}", code=PROFILE
        )
    return True


_CA_KEYS_PASSED: DerCache[bool] = DerCache(DER_CACHE_SIZE)


def _ca_key_problem(key: object) -> str | None:
    expected = (
        f"expected ECDSA on {sorted(CA_CURVES)} or RSA of {CA_RSA_BITS[0]} to {CA_RSA_BITS[1]}"
        f" bits with exponent {CA_RSA_EXPONENT}"
    )
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name in CA_CURVES:
            return None
        return f"{expected}; found ECDSA on {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        exponent = key.public_numbers().e
        if exponent == CA_RSA_EXPONENT and CA_RSA_BITS[0] <= key.key_size <= CA_RSA_BITS[1]:
            return None
        shown = exponent if exponent.bit_length() <= 32 else f"of {exponent.bit_length()} bits"
        return f"{expected}; found RSA of {key.key_size} bits with exponent {shown}"
    return f"{expected}; found {type(key).__name__}"


def _validate_uncached(
    chain: Sequence[x509.Certificate], trust: TrustRoot, moment: datetime, profile: ChainProfile
) -> ValidatedChain:
    for certificate in chain[1:]:
        _check_ca_key(certificate)
    leaf = chain[0]
    untrusted = [cert for cert in chain[1:] if not _self_signed(cert)] + list(trust.intermediates)
    try:
        verified = _build_path(leaf, untrusted, trust.roots, moment, profile)
    except VerificationError as exc:
        raise _diagnose(leaf, untrusted, trust.roots, moment, str(exc), profile=profile) from exc
    except ValueError as exc:
        raise CertificateError(f"unreadable certificate: {exc}", code=MALFORMED) from exc
    path = tuple(verified.chain)
    _check_exact_validity(path, moment)
    identities = tuple(
        value for name in verified.subjects or () if (value := identity_of(name)) is not None
    )
    ders = certificate_ders(path)
    return ValidatedChain(leaf, path, identities, ders, _ca_facts(path[1:], ders[1:]))


def _build_path(
    leaf: x509.Certificate,
    untrusted: list[x509.Certificate],
    roots: tuple[x509.Certificate, ...],
    moment: datetime,
    profile: ChainProfile,
) -> VerifiedClient:
    """The path ``x509.verification`` builds from ``leaf`` through the candidates (``untrusted``,
    then ``roots`` as anchors) that are valid at the exact ``moment``.

    The validator reads the time to whole seconds (it truncates), so on its own it would take a
    candidate in the second after its notAfter: half a second after an old CA's notAfter it chose
    the old certificate over its renewal (same key and name), the exact check refused the path,
    and the verdict then depended on whether a later validation had cached the renewal's path.
    Validity bounds are whole seconds (X.509 times carry none; a fraction does not parse), so a
    candidate valid at the exact time is valid at the truncated one, and one not valid at the
    exact time never reaches the validator: the path is a function of the candidates' exact
    validity, the same at every moment of the cache's window (:func:`_same_validity_window`).
    Before a notBefore the truncated time is already not valid (nb <= t iff nb <= floor(t) for a
    whole-second nb). The leaf is not filtered: :func:`_check_exact_validity` refuses it.

    Raises:
        VerificationError: No path (also when no anchor is valid at ``moment``).
        ValueError: A certificate the validator cannot read.
    """
    anchors = tuple(root for root in roots if within_validity(root, moment))
    if not anchors:
        raise VerificationError(f"no trust-root anchor is valid at {moment.isoformat()}")
    candidates = [cert for cert in untrusted if within_validity(cert, moment)]
    return _verifier(anchors, moment, profile).verify(leaf, candidates)


def _check_exact_validity(path: tuple[x509.Certificate, ...], moment: datetime) -> None:
    """Refuse a path with a certificate outside its validity at the exact ``moment``.

    ``x509.verification`` reads the time to whole seconds, so it accepts a certificate up to a
    second after its notAfter; identity-v1 §4 and the validated-chain cache's window both use the
    exact time. Only the leaf can fail here: :func:`_build_path` gives the validator no other
    candidate that is not valid at the exact time.

    Raises:
        CertificateError: ``certificate.expired`` or ``certificate.not_yet_valid``.
    """
    stale = next((cert for cert in path if not within_validity(cert, moment)), None)
    if stale is not None:
        raise _time_error(stale, stale is path[0], moment)


def _diagnose(
    leaf: x509.Certificate,
    untrusted: list[x509.Certificate],
    roots: tuple[x509.Certificate, ...],
    moment: datetime,
    reason: str,
    *,
    profile: ChainProfile,
) -> CertificateError:
    """Turn a path validator failure into a code, by signature paths (identity-v1 §4), never by
    the validator's message (which only ends up in the text).

    A *signature path* runs from the leaf to an anchor through at most
    ``IDENTITY_LIMITS.max_intermediates`` untrusted certificates, each certificate's issuer name equal to the next one's subject and
    its signature verifying with the next one's key. No signature path: ``certificate.untrusted``.
    One whose certificates are all valid at ``moment``: ``certificate.profile`` (the validator
    refused a rule of the profile). Otherwise a time code for the first certificate, leaf first,
    outside its validity on the first signature path found.
    """
    del profile  # the profile's rules decide only through the validator's refusal
    paths = _signature_paths(leaf, untrusted, roots)
    if not paths:
        return _TimelessRefusalError(
            f"no valid path from {describe(leaf)} to a trust-root anchor: {_readable(reason)}",
            code=UNTRUSTED,
        )
    if any(all(within_validity(cert, moment) for cert in path) for path in paths):
        return CertificateError(
            f"certificate does not meet the profile: {_readable(reason)}", code=PROFILE
        )
    path = paths[0]
    stale = next(cert for cert in path if not within_validity(cert, moment))
    return _time_error(stale, stale is path[0], moment)


def _signature_paths(
    leaf: x509.Certificate,
    untrusted: list[x509.Certificate],
    roots: tuple[x509.Certificate, ...],
) -> list[tuple[x509.Certificate, ...]]:
    """Every signature path from ``leaf`` to an anchor, depth first, candidates tried in the order
    untrusted certificates (bundle, then trust-root intermediates), then anchors.

    Each (certificate, issuer) signature is checked at most once, however many paths pass
    through the pair: at most ``(1 + len(untrusted)) * (len(untrusted) + len(roots))`` checks.
    """
    found: list[tuple[x509.Certificate, ...]] = []
    checked: dict[tuple[x509.Certificate, x509.Certificate], bool] = {}

    def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
        pair = (certificate, issuer)
        if pair not in checked:
            checked[pair] = _issued_by(certificate, issuer)
        return checked[pair]

    def extend(path: tuple[x509.Certificate, ...]) -> None:
        for root in roots:
            if issued_by(path[-1], root):
                found.append((*path, root))
        if len(path) > IDENTITY_LIMITS.max_intermediates:
            return
        for candidate in untrusted:
            if candidate not in path and issued_by(path[-1], candidate):
                extend((*path, candidate))

    extend((leaf,))
    return found


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s name is ``certificate``'s issuer and its key signed ``certificate``."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _self_signed(certificate: x509.Certificate) -> bool:
    """Whether ``certificate`` is a self-signed root: never useful as an untrusted intermediate
    (cached per certificate DER)."""
    return _SELF_SIGNED.get(certificate, _signs_itself)


def _signs_itself(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


_SELF_SIGNED: DerCache[bool] = DerCache(DER_CACHE_SIZE)


def _time_error(stale: x509.Certificate, is_leaf: bool, moment: datetime) -> CertificateError:
    role = "leaf" if is_leaf else "CA"
    window = f"{stale.not_valid_before_utc.isoformat()} to {stale.not_valid_after_utc.isoformat()}"
    if moment > stale.not_valid_after_utc:
        return CertificateError(
            f"{role} certificate {describe(stale)} expired: valid {window}, checked at"
            f" {moment.isoformat()}",
            code=EXPIRED,
        )
    return CertificateError(
        f"{role} certificate {describe(stale)} is not yet valid: valid {window}, checked at"
        f" {moment.isoformat()}",
        code=NOT_YET_VALID,
    )


def _readable(reason: str) -> str:
    for oid, name in _EXTENSION_NAMES.items():
        reason = reason.replace(oid, f"{name} ({oid})")
    return reason


def _store(roots: tuple[x509.Certificate, ...]) -> Store:
    """The anchors' store, kept per the anchors' DER."""
    ders = certificate_ders(roots)
    store = _STORES.get(ders)
    if store is None:
        store = _STORES.put(ders, Store(list(roots)))
    return store


def _verifier(
    roots: tuple[x509.Certificate, ...], moment: datetime, profile: ChainProfile
) -> ClientVerifier:
    """The path validator for the anchors, the time and the profile, kept per the anchors' DER,
    the time and the profile."""
    key = (certificate_ders(roots), moment, profile)
    verifier = _VERIFIERS.get(key)
    if verifier is None:
        built = (
            PolicyBuilder()
            .store(_store(roots))
            .time(moment)
            .max_chain_depth(IDENTITY_LIMITS.max_intermediates)
            .extension_policies(ca_policy=profile.ca_policy, ee_policy=profile.ee_policy)
            .build_client_verifier()
        )
        verifier = _VERIFIERS.put(key, built)
    return verifier


_STORES: Kept[tuple[bytes, ...], Store] = Kept(STORE_CACHE_SIZE)
_VERIFIERS: Kept[tuple[tuple[bytes, ...], datetime, ChainProfile], ClientVerifier] = Kept(
    VERIFIER_CACHE_SIZE
)


def _require_document_signing(
    _policy: Policy, certificate: x509.Certificate, usage: x509.ExtendedKeyUsage
) -> None:
    if DOCUMENT_SIGNING not in list(usage):
        raise _ProfileViolationError(
            f"{describe(certificate)}: ExtendedKeyUsage lacks id-kp-documentSigning"
            f" ({DOCUMENT_SIGNING.dotted_string}); found {_eku_names(usage)}"
        )


def _allow_ca_document_signing(
    _policy: Policy, certificate: x509.Certificate, usage: x509.ExtendedKeyUsage | None
) -> None:
    if usage is None or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in list(usage):
        return
    _require_document_signing(_policy, certificate, usage)


def _require_digital_signature(
    _policy: Policy, certificate: x509.Certificate, usage: x509.KeyUsage
) -> None:
    if not usage.digital_signature:
        raise _ProfileViolationError(f"{describe(certificate)}: KeyUsage lacks digitalSignature")


def _require_identity(
    _policy: Policy, certificate: x509.Certificate, names: x509.SubjectAlternativeName
) -> None:
    identities = [value for name in names if (value := identity_of(name)) is not None]
    if not identities:
        raise _ProfileViolationError(
            f"{describe(certificate)}: SubjectAlternativeName carries no URI or email identity;"
            f" found {[str(name) for name in names]}"
        )
    for identity in identities:
        try:
            check_identity_text(identity)
        except AuthorityError as exc:
            raise _ProfileViolationError(f"{describe(certificate)}: {exc}") from exc


def _eku_names(usage: x509.ExtendedKeyUsage) -> list[str]:
    return [f"{_EKU_NAMES.get(oid, 'unknown')} ({oid.dotted_string})" for oid in usage]


_EE_POLICY = (
    ExtensionPolicy.webpki_defaults_ee()
    .require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _require_document_signing)
    .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _require_digital_signature)
    .require_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, _require_identity)
    .require_present(x509.AuthorityKeyIdentifier, Criticality.NON_CRITICAL, None)
)
_CA_POLICY = ExtensionPolicy.webpki_defaults_ca().may_be_present(
    x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _allow_ca_document_signing
)
DOCUMENT_PROFILE = ChainProfile("document", _EE_POLICY, _CA_POLICY)
"""The profile of bundle signers: documentSigning, digitalSignature, a SAN identity, AKI."""
