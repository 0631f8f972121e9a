"""The CA directory: certificates, encrypted keys and the revocation state on disk.

Layout: ``root.pem``, ``root.key``, ``issuing.pem``, ``issuing.key`` (PKCS#8, mode 0600,
encrypted when a passphrase is given) and ``state.json`` (revocations and the CRL number). The
root key is written once so that the operator can move it offline; :func:`load_authority` never
reads it.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from provenance.encoding import StrictDecodeError, loads_strict
from provenance.errors import AuthorityError, KeyFormatError
from provenance.identity.authority import (
    AuthorityState,
    CertificateAuthority,
    NewAuthority,
    RevocationEntry,
)
from provenance.identity.profile import IDENTITY_LIMITS, as_utc
from provenance.keys import load_private_key, write_private_key

ROOT_CERTIFICATE = "root.pem"
ROOT_KEY = "root.key"
ISSUING_CERTIFICATE = "issuing.pem"
ISSUING_KEY = "issuing.key"
STATE = "state.json"
_STATE_FIELDS = {"crlNumber", "revocations"}
_REVOCATION_FIELDS = {"serialNumber", "revokedAt", "reason", "invalidityDate"}


def save_authority(
    directory: Path, new: NewAuthority, *, passphrase: bytes | None
) -> CertificateAuthority:
    """Write a new authority to ``directory`` (created with mode 0700 if absent).

    Returns:
        The authority, now bound to ``directory`` so that revocations and CRLs are saved.

    Raises:
        AuthorityError: A file exists already or cannot be written.
    """
    authority = new.authority
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_new(directory / ROOT_CERTIFICATE, _pem(authority.root_certificate))
        _write_new(directory / ISSUING_CERTIFICATE, _pem(authority.issuing_certificate))
        write_private_key(directory / ROOT_KEY, new.root_key, passphrase)
        write_private_key(directory / ISSUING_KEY, authority.issuing_key, passphrase)
    except (OSError, KeyFormatError) as exc:
        raise AuthorityError(f"cannot save the authority in {directory}: {exc}") from exc
    authority.directory = directory
    save_state(authority)
    return authority


def load_authority(directory: Path, *, passphrase: bytes | None) -> CertificateAuthority:
    """Read the authority from ``directory`` (never its root key).

    Raises:
        AuthorityError: A file is missing or unreadable, the passphrase is wrong, or the issuing
            key does not match the issuing certificate.
    """
    try:
        root = x509.load_pem_x509_certificate((directory / ROOT_CERTIFICATE).read_bytes())
        issuing = x509.load_pem_x509_certificate((directory / ISSUING_CERTIFICATE).read_bytes())
        key = load_private_key((directory / ISSUING_KEY).read_bytes(), passphrase)
        state = state_from_json((directory / STATE).read_bytes())
    except (OSError, ValueError, KeyFormatError) as exc:
        raise AuthorityError(f"cannot load the authority in {directory}: {exc}") from exc
    if key.public_key.spki_der != issuing.public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    ):
        raise AuthorityError(f"{directory / ISSUING_KEY} does not match {ISSUING_CERTIFICATE}")
    name = _organization(issuing)
    return CertificateAuthority(name, root, issuing, key, state, directory)


def save_state(authority: CertificateAuthority) -> None:
    """Replace the directory's ``state.json`` atomically; no-op for an in-memory authority.

    Raises:
        AuthorityError: The file cannot be written.
    """
    if authority.directory is None:
        return
    target = authority.directory / STATE
    temporary = target.with_suffix(".tmp")
    try:
        temporary.write_bytes(state_to_json(authority.state))
        os.replace(temporary, target)
    except OSError as exc:
        raise AuthorityError(f"cannot save {target}: {exc.strerror}") from exc


def state_to_json(state: AuthorityState) -> bytes:
    """Serialize the authority state (``crlNumber``, ``revocations``)."""
    document = {
        "crlNumber": state.crl_number,
        "revocations": [
            {
                "serialNumber": f"{entry.serial_number:x}",
                "revokedAt": entry.revoked_at.isoformat(),
                "reason": entry.reason.value,
                "invalidityDate": entry.invalidity_date.isoformat()
                if entry.invalidity_date
                else None,
            }
            for entry in state.revocations
        ],
    }
    return json.dumps(document, indent=2).encode("utf-8") + b"\n"


def state_from_json(data: bytes) -> AuthorityState:
    """Parse ``state.json`` strictly.

    Raises:
        AuthorityError: Not strict JSON, unknown or missing fields, or bad values.
    """
    try:
        document = loads_strict(data, max_bytes=IDENTITY_LIMITS.max_state_bytes)
        _require_fields(document, _STATE_FIELDS, "state")
        crl_number = document["crlNumber"]
        if not isinstance(crl_number, int) or isinstance(crl_number, bool) or crl_number < 0:
            raise AuthorityError(f"crlNumber must be a non-negative integer, found {crl_number!r}")
        revocations = [_revocation_from_json(item) for item in _list(document["revocations"])]
    except (StrictDecodeError, ValueError, TypeError, KeyError) as exc:
        raise AuthorityError(f"malformed authority state: {exc}") from exc
    return AuthorityState(crl_number, revocations)


def _revocation_from_json(item: Any) -> RevocationEntry:
    _require_fields(item, _REVOCATION_FIELDS, "revocation")
    invalidity = item["invalidityDate"]
    return RevocationEntry(
        serial_number=int(item["serialNumber"], 16),
        revoked_at=_time(item["revokedAt"]),
        reason=x509.ReasonFlags(item["reason"]),
        invalidity_date=None if invalidity is None else _time(invalidity),
    )


def _require_fields(document: Any, fields: set[str], what: str) -> None:
    if not isinstance(document, dict) or set(document) != fields:
        found = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise AuthorityError(f"{what} must hold exactly {sorted(fields)}, found {found}")


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise AuthorityError(f"expected a list, found {type(value).__name__}")
    return value


def _time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise AuthorityError(f"expected an ISO 8601 time, found {text!r}")
    return as_utc(datetime.fromisoformat(text), AuthorityError)


def _organization(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    if not names or not isinstance(names[0].value, str):
        raise AuthorityError(f"the issuing certificate has no organization: {certificate.subject}")
    return names[0].value


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.PEM)


def _write_new(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(data)
