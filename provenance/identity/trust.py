"""Trust roots: the explicit anchors a verifier is built from (specs/identity-v1.md §Trust root).

A trust root file is a versioned JSON document of media type
``application/vnd.provenance.trust-root.v1+json``. It names root CA certificates, optional
intermediates, pinned raw public keys, transparency log keys, CRLs and CRL locations. Parsing is
strict: unknown media types, versions and fields are refused, never guessed.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.display import printable
from provenance.encoding import StrictDecodeError, loads_strict
from provenance.errors import KeyFormatError, TrustRootError
from provenance.identity.authority import CertificateAuthority
from provenance.identity.profile import IDENTITY_LIMITS
from provenance.keys import VerifyingKey, load_public_key
from provenance.tlog.note import NoteVerifier

MEDIA_TYPE = "application/vnd.provenance.trust-root.v1+json"
_FIELDS = {
    "mediaType",
    "name",
    "certificateAuthorities",
    "intermediates",
    "publicKeys",
    "logKeys",
    "crls",
    "crlLocations",
    "requireLog",
    "requireLogForMedia",
}
_REQUIRED_FIELDS = {"mediaType", "name"}
_PUBLIC_KEY_FIELDS = {"name", "publicKey"}
_PEM_BEGIN = "-----BEGIN "
_T = TypeVar("_T")


@dataclass(frozen=True)
class TrustRoot:
    """What a verifier trusts, and nothing else.

    Attributes:
        name: A label for people (the publisher's name).
        roots: Root CA certificates: the only trust anchors of chain validation.
        intermediates: CA certificates offered as untrusted path-building help.
        pinned_keys: ``(name, key)`` pairs trusted directly, without a certificate; names unique.
        log_keys: Transparency log verifier keys, C2SP signed-note form ``<name>+<hex id>+<b64>``.
        crls: CRLs to check revocation against.
        crl_locations: https URLs where fresh CRLs are published (fetching them is the caller's act).
        require_log: Whether every signature must be proven logged.
        require_log_for_media: Whether C2PA media must be proven logged; None means as
            ``require_log`` (media-v1.md §3: a publisher that logs bundles but not media says so).
    """

    name: str
    roots: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()
    pinned_keys: tuple[tuple[str, VerifyingKey], ...] = ()
    log_keys: tuple[str, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    crl_locations: tuple[str, ...] = ()
    require_log: bool = False
    require_log_for_media: bool | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        for role, certificates in (("root", self.roots), ("intermediate", self.intermediates)):
            for certificate in certificates:
                _check_ca(certificate, role)
        for index, crl in enumerate(self.crls):
            _check_crl_readable(crl, index)
        pinned_names = [name for name, _ in self.pinned_keys]
        if len(set(pinned_names)) != len(pinned_names):
            raise TrustRootError(f"pinned key names must be unique, found {pinned_names}")
        for name in pinned_names:
            _check_name(name)
        for log_key in self.log_keys:
            _check_log_key(log_key)
        for location in self.crl_locations:
            _check_https_url(location)

    @cached_property
    def root_ders(self) -> tuple[bytes, ...]:
        """The DER of each of :attr:`roots`, in order (what validated chains are cached by)."""
        return _shared(root.public_bytes(Encoding.DER) for root in self.roots)

    @cached_property
    def intermediate_ders(self) -> tuple[bytes, ...]:
        """The DER of each of :attr:`intermediates`, in order."""
        return _shared(certificate.public_bytes(Encoding.DER) for certificate in self.intermediates)

    @cached_property
    def crl_ders(self) -> tuple[bytes, ...]:
        """The DER of each of :attr:`crls`, in order (what revocation checks are cached by)."""
        return _shared(crl.public_bytes(Encoding.DER) for crl in self.crls)

    @classmethod
    def from_json(cls, data: bytes) -> TrustRoot:
        """Parse a trust root file strictly.

        Raises:
            TrustRootError: Too large, not strict JSON (duplicate keys, ...), an unknown media
                type or field, a missing field, a wrong type, unreadable PEM, or a root that is
                not a CA certificate.
        """
        try:
            document = loads_strict(data, max_bytes=IDENTITY_LIMITS.max_trust_root_bytes)
        except StrictDecodeError as exc:
            raise TrustRootError(f"trust root is not strict JSON: {exc}") from exc
        _check_envelope(document)
        return cls(
            name=_typed(document["name"], str, "name"),
            roots=_pem_items(document, "certificateAuthorities", _load_certificate),
            intermediates=_pem_items(document, "intermediates", _load_certificate),
            pinned_keys=tuple(_pinned_key(item) for item in _list(document, "publicKeys")),
            log_keys=tuple(_typed(item, str, "logKeys[]") for item in _list(document, "logKeys")),
            crls=_pem_items(document, "crls", _load_crl),
            crl_locations=tuple(
                _typed(item, str, "crlLocations[]") for item in _list(document, "crlLocations")
            ),
            require_log=_typed(document.get("requireLog", False), bool, "requireLog"),
            require_log_for_media=_optional_bool(document, "requireLogForMedia"),
        )

    def to_json(self) -> bytes:
        """Serialize as a trust root file (every field written, UTF-8, newline-terminated)."""
        document = {
            "mediaType": MEDIA_TYPE,
            "name": self.name,
            "certificateAuthorities": [_pem_text(cert) for cert in self.roots],
            "intermediates": [_pem_text(cert) for cert in self.intermediates],
            "publicKeys": [
                {"name": name, "publicKey": key.to_pem().decode("ascii")}
                for name, key in self.pinned_keys
            ],
            "logKeys": list(self.log_keys),
            "crls": [_pem_text(crl) for crl in self.crls],
            "crlLocations": list(self.crl_locations),
            "requireLog": self.require_log,
        }
        if self.require_log_for_media is not None:
            document["requireLogForMedia"] = self.require_log_for_media
        return json.dumps(document, indent=2).encode("utf-8") + b"\n"

    @property
    def media_requires_log(self) -> bool:
        """Whether C2PA media must be proven logged (``requireLogForMedia``, else ``requireLog``)."""
        if self.require_log_for_media is None:
            return self.require_log
        return self.require_log_for_media

    def pinned_key(self, key_id: str) -> tuple[str, VerifyingKey] | None:
        """The pinned ``(name, key)`` whose key id (hex SHA-256 of the SPKI) is ``key_id``."""
        for name, key in self.pinned_keys:
            if key.key_id == key_id:
                return name, key
        return None


def export_trust_root(
    ca: CertificateAuthority,
    *,
    crl: x509.CertificateRevocationList | None,
    log_keys: Sequence[str] = (),
    crl_locations: Sequence[str] = (),
    require_log: bool = False,
    require_log_for_media: bool | None = None,
) -> TrustRoot:
    """The trust root a publisher serves for its authority: its root, issuing CA and CRL."""
    return TrustRoot(
        name=ca.name,
        roots=(ca.root_certificate,),
        intermediates=(ca.issuing_certificate,),
        log_keys=tuple(log_keys),
        crls=() if crl is None else (crl,),
        crl_locations=tuple(crl_locations),
        require_log=require_log,
        require_log_for_media=require_log_for_media,
    )


def _check_envelope(document: Any) -> None:
    if not isinstance(document, dict):
        raise TrustRootError(f"trust root must be a JSON object, found {type(document).__name__}")
    media_type = document.get("mediaType")
    if media_type != MEDIA_TYPE:
        raise TrustRootError(
            f"unsupported trust root media type {media_type!r}; expected {MEDIA_TYPE}"
        )
    unknown = sorted(set(document) - _FIELDS)
    if unknown:
        raise TrustRootError(f"unknown trust root fields {unknown}")
    missing = sorted(_REQUIRED_FIELDS - set(document))
    if missing:
        raise TrustRootError(f"trust root lacks required fields {missing}")


def _typed(value: Any, kind: type[_T], where: str) -> _T:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TrustRootError(f"{where} must be a {kind.__name__}, found {type(value).__name__}")
    return value


def _list(document: dict[str, Any], field: str) -> list[Any]:
    return _typed(document.get(field, []), list, field)


def _pem_items(
    document: dict[str, Any], field: str, load: Callable[[bytes, str], _T]
) -> tuple[_T, ...]:
    items = _list(document, field)
    return tuple(
        load(_single_pem(item, f"{field}[{i}]"), f"{field}[{i}]") for i, item in enumerate(items)
    )


def _single_pem(item: Any, where: str) -> bytes:
    text = _typed(item, str, where)
    if text.count(_PEM_BEGIN) != 1:
        raise TrustRootError(f"{where} must hold exactly one PEM block")
    return text.encode("ascii", errors="replace")


def _load_certificate(pem: bytes, where: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise TrustRootError(f"{where} is not a PEM certificate: {exc}") from exc


def _load_crl(pem: bytes, where: str) -> x509.CertificateRevocationList:
    try:
        return x509.load_pem_x509_crl(pem)
    except ValueError as exc:
        raise TrustRootError(f"{where} is not a PEM CRL: {exc}") from exc


def _pinned_key(item: Any) -> tuple[str, VerifyingKey]:
    entry = _typed(item, dict, "publicKeys[]")
    if set(entry) != _PUBLIC_KEY_FIELDS:
        raise TrustRootError(
            f"publicKeys[] entries hold exactly {sorted(_PUBLIC_KEY_FIELDS)}, found {sorted(entry)}"
        )
    name = _typed(entry["name"], str, "publicKeys[].name")
    pem = _single_pem(entry["publicKey"], f"publicKeys[{name!r}].publicKey")
    try:
        return name, load_public_key(pem)
    except KeyFormatError as exc:
        raise TrustRootError(f"publicKeys[{name!r}]: {exc}") from exc


def _pem_text(item: x509.Certificate | x509.CertificateRevocationList) -> str:
    return item.public_bytes(Encoding.PEM).decode("ascii")


def _check_name(name: str) -> None:
    if not 0 < len(name) <= IDENTITY_LIMITS.max_trust_root_name_chars or not name.isprintable():
        raise TrustRootError(
            f"a name has 1 to {IDENTITY_LIMITS.max_trust_root_name_chars} printable characters, "
            f"found {name!r}"
        )


def _check_ca(certificate: x509.Certificate, role: str) -> None:
    """Read every field verification will read, so a lazily parsed field that fails (a malformed
    name constraint, an unsupported key) refuses the trust root instead of crashing a verifier."""
    try:
        name = printable(certificate.subject.rfc4514_string())
    except (ValueError, TypeError) as exc:
        raise TrustRootError(f"{role} certificate has an unreadable subject: {exc}") from exc
    try:
        certificate.issuer.rfc4514_string()
        certificate.public_key()
        extensions = certificate.extensions
        constraints = extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TrustRootError(f"{role} {name} has malformed fields: {_one_line(exc)}") from exc
    if constraints is None or not constraints.ca:
        raise TrustRootError(
            f"{role} {name} is not a CA certificate (basicConstraints CA is not true)"
        )


def _check_crl_readable(crl: x509.CertificateRevocationList, index: int) -> None:
    """Read the CRL's lazily parsed fields (issuer, extensions, entries) once, now."""
    try:
        crl.issuer.rfc4514_string()
        crl.extensions  # noqa: B018 - parsing is the check
        for entry in crl:
            entry.extensions  # noqa: B018
    except (ValueError, TypeError) as exc:
        raise TrustRootError(f"crls[{index}] has malformed fields: {_one_line(exc)}") from exc


def _one_line(exc: Exception) -> str:
    return printable(" ".join(str(exc).split()))


def _check_log_key(text: str) -> None:
    """A log key must parse as tlog-v1 §3 says (key id of the key, algorithm byte 0x01)."""
    try:
        NoteVerifier.from_key_string(text)
    except KeyFormatError as exc:
        raise TrustRootError(f"log key {printable(text)!r} is unusable: {exc}") from exc


def _check_https_url(location: str) -> None:
    parts = urlsplit(location)
    if parts.scheme != "https" or not parts.hostname or not location.isascii():
        raise TrustRootError(f"CRL location {location!r} must be an https URL")


def _optional_bool(document: dict[str, Any], name: str) -> bool | None:
    value = document.get(name)
    return None if value is None and name not in document else _typed(value, bool, name)


_SHARED_DER_SIZE = 256
_SHARED_DER: OrderedDict[bytes, bytes] = OrderedDict()
_SHARED_DER_LOCK = threading.Lock()


def _shared(ders: Iterable[bytes]) -> tuple[bytes, ...]:
    """``ders`` with each byte string replaced by one kept copy of equal bytes: the caches keyed
    by a trust root's DER (validated chains, revocation plans) then hold one copy of a CRL or an
    anchor however many times the same trust root is parsed (a trust store parses it per call)."""
    with _SHARED_DER_LOCK:
        shared = tuple(_SHARED_DER.setdefault(der, der) for der in ders)
        for der in shared:
            _SHARED_DER.move_to_end(der)
        while len(_SHARED_DER) > _SHARED_DER_SIZE:
            _SHARED_DER.popitem(last=False)
    return shared
