"""A trust store for many publishers, each kept current with TUF (``tuf.ngclient``).

See ``specs/trust-distribution-v1.md``. The store is a directory holding, per publisher,
``publishers/<name>/``: ``publisher.json`` (URL, versions, expiry), ``metadata/`` (the ngclient
metadata cache: ``root.json``, ``root_history/``, ``timestamp.json``, ``snapshot.json``,
``targets.json``) and ``trust-root.json`` (the verified target). A publisher enters the store only
from root metadata obtained out of band (or fetched and checked against a pinned SHA-256), never by
trusting what a server hands out on first use. Updating is ngclient's work (rollback, freeze,
mix-and-match and signature checks); this module only maps its errors onto status codes.

Verification through the store uses the trust root of the last successful update while its targets
metadata has not expired, and fails with ``trust.expired`` after that.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from tuf.api.exceptions import (
    BadVersionNumberError,
    DownloadError,
    ExpiredMetadataError,
    LengthOrHashMismatchError,
    RepositoryError,
    UnsignedMetadataError,
)
from tuf.api.metadata import Metadata, Root, Targets
from tuf.ngclient import Updater, UpdaterConfig
from tuf.ngclient.urllib3_fetcher import Urllib3Fetcher

from provenance.armor import check_armored
from provenance.bundle import Bundle
from provenance.codes import Code
from provenance.display import printable
from provenance.encoding import StrictDecodeError, loads_strict
from provenance.errors import CertificateError, ProvenanceError, TrustRootError
from provenance.identity.chain import EXPIRED as EXPIRED_CERTIFICATE
from provenance.identity.chain import NOT_YET_VALID, validate_chain
from provenance.identity.profile import as_utc
from provenance.identity.trust import TrustRoot
from provenance.text import Content
from provenance.trust_repository import TRUST_ROOT_TARGET, TUF_LIMITS
from provenance.verify.policy import Policy
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier

__all__ = [
    "EXPIRED",
    "NO_PUBLISHER",
    "STORE_INVALID",
    "UNKNOWN_PUBLISHER",
    "PublisherRecord",
    "StoreVerification",
    "TrustStore",
    "TrustStoreError",
    "armored_publisher",
    "chain_anchored",
    "check_url",
    "vouches",
]
"""The face of this module: the CLI and the service import only these names from it."""

TUF_PATH = "/.well-known/provenance/tuf"
PUBLISHER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_RECORD = "publisher.json"
_TRUST_ROOT = "trust-root.json"
_RECORD_FIELDS = {
    "name",
    "url",
    "rootVersion",
    "trustRootVersion",
    "expires",
    "trustRootSha256",
    "updated",
}

ROLLBACK = "trust.rollback"
EXPIRED = Code.TRUST_EXPIRED
SIGNATURE = "trust.signature"
TARGET_MISMATCH = "trust.target.mismatch"
DOWNLOAD = "trust.download"
METADATA_INVALID = "trust.metadata.invalid"
ROOT_MISMATCH = "trust.root.mismatch"
UNKNOWN_PUBLISHER = "trust.publisher.unknown"
NO_PUBLISHER = Code.TRUST_PUBLISHER_NONE
STORE_INVALID = "trust.store.invalid"


class TrustStoreError(ProvenanceError):
    """A trust store operation was refused; ``code`` is its stable status code.

    Args:
        message: What was expected and what was found.
        code: One of the ``trust.*`` codes of ``specs/trust-distribution-v1.md``.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PublisherRecord:
    """A publisher as the store knows it after its last successful update.

    Attributes:
        name: The local name (``[a-z0-9][a-z0-9._-]{0,62}``).
        url: The publisher's service base URL.
        root_version: The trusted TUF root version.
        trust_root_version: The targets version that signed the current trust root.
        expires: When that targets metadata expires (the trust root is usable until then).
        trust_root_sha256: SHA-256 (hex) of the current trust root file.
        updated: When the last successful update finished.
    """

    name: str
    url: str
    root_version: int
    trust_root_version: int
    expires: datetime
    trust_root_sha256: str
    updated: datetime

    def to_json(self) -> bytes:
        """The ``publisher.json`` document."""
        document = {
            "name": self.name,
            "url": self.url,
            "rootVersion": self.root_version,
            "trustRootVersion": self.trust_root_version,
            "expires": self.expires.isoformat(),
            "trustRootSha256": self.trust_root_sha256,
            "updated": self.updated.isoformat(),
        }
        return json.dumps(document, indent=2).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> PublisherRecord:
        """Parse ``publisher.json`` strictly.

        Raises:
            TrustStoreError: ``trust.store.invalid`` for anything but the exact fields.
        """
        try:
            document: Any = loads_strict(data, max_bytes=64 * 1024)
            if not isinstance(document, dict) or set(document) != _RECORD_FIELDS:
                raise ValueError(f"expected the fields {sorted(_RECORD_FIELDS)}")
            return cls(
                name=_field(document, "name", str),
                url=_field(document, "url", str),
                root_version=_field(document, "rootVersion", int),
                trust_root_version=_field(document, "trustRootVersion", int),
                expires=_time(document["expires"]),
                trust_root_sha256=_field(document, "trustRootSha256", str),
                updated=_time(document["updated"]),
            )
        except (StrictDecodeError, ValueError, TypeError) as exc:
            raise TrustStoreError(f"malformed {_RECORD}: {exc}", code=STORE_INVALID) from exc


@dataclass(frozen=True)
class StoreVerification:
    """A verification through the store: which publisher's trust root, and its result."""

    publisher: str
    result: VerificationResult


def check_publisher_name(name: str) -> str:
    """Return ``name`` if it is a valid local publisher name.

    Raises:
        TrustStoreError: ``trust.store.invalid`` otherwise.
    """
    if not PUBLISHER_NAME.fullmatch(name):
        raise TrustStoreError(
            f"a publisher name matches [a-z0-9][a-z0-9._-]{{0,62}}, found {printable(name)!r}",
            code=STORE_INVALID,
        )
    return name


def check_url(url: str) -> str:
    """The publisher's base URL without a trailing slash: https, or http on a loopback host.

    Raises:
        TrustStoreError: ``trust.store.invalid`` for any other URL.
    """
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not secure or not parts.hostname or not url.isascii() or parts.query or parts.fragment:
        raise TrustStoreError(
            f"a publisher URL is https (http only on a loopback host) without query or fragment,"
            f" found {printable(url)!r}",
            code=STORE_INVALID,
        )
    return url.rstrip("/")


class TrustStore:
    """The trust store in ``directory`` (created on first use).

    Args:
        directory: The store's directory.
        fetcher_timeout: Socket timeout of metadata downloads, in seconds.
    """

    def __init__(self, directory: Path, *, fetcher_timeout: int = 30) -> None:
        self.directory = directory
        self._timeout = fetcher_timeout

    def add(
        self,
        name: str,
        url: str,
        *,
        now: datetime,
        root: bytes | None = None,
        root_sha256: str | None = None,
    ) -> PublisherRecord:
        """Add a publisher from out-of-band root metadata (``root``), or from the version 1 root
        the publisher serves when its SHA-256 equals ``root_sha256``; then update it.

        Raises:
            TrustStoreError: A bad name or URL, a known name, a root that does not match the pin,
                and every error of :meth:`update`. Nothing is kept when adding fails.
        """
        check_publisher_name(name)
        base = check_url(url)
        if (root is None) == (root_sha256 is None):
            raise TrustStoreError(
                "give exactly one of the root metadata or its SHA-256", code=STORE_INVALID
            )
        if self._publisher_dir(name).exists():
            raise TrustStoreError(f"publisher {name!r} is in the store already", code=STORE_INVALID)
        bootstrap = root if root is not None else self._pinned_root(base, root_sha256 or "")
        staging = self._staging(name)
        try:
            record = self._refresh(staging, name, base, bootstrap, now)
            staging.rename(self._publisher_dir(name))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return record

    def update(self, name: str, *, now: datetime) -> PublisherRecord:
        """Refresh a publisher's metadata with ngclient and fetch its current trust root.

        Raises:
            TrustStoreError: ``trust.publisher.unknown``; ``trust.rollback`` (a version older
                than one trusted), ``trust.expired`` (freeze), ``trust.signature`` (not signed by
                the keys the root names), ``trust.target.mismatch`` (a target that is not what
                the targets metadata signed), ``trust.download``, ``trust.metadata.invalid``.
        """
        record = self.record(name)
        return self._refresh(self._publisher_dir(name), name, record.url, None, now)

    def remove(self, name: str) -> None:
        """Forget a publisher.

        Raises:
            TrustStoreError: ``trust.publisher.unknown``.
        """
        self.record(name)
        shutil.rmtree(self._publisher_dir(name))

    def records(self) -> list[PublisherRecord]:
        """Every publisher of the store, by name."""
        directory = self.directory / "publishers"
        if not directory.is_dir():
            return []
        names = sorted(p.name for p in directory.iterdir() if PUBLISHER_NAME.fullmatch(p.name))
        return [self.record(name) for name in names]

    def record(self, name: str) -> PublisherRecord:
        """The record of publisher ``name``.

        Raises:
            TrustStoreError: ``trust.publisher.unknown`` or ``trust.store.invalid``.
        """
        check_publisher_name(name)
        path = self._publisher_dir(name) / _RECORD
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise TrustStoreError(
                f"publisher {name!r} is not in the trust store {self.directory}",
                code=UNKNOWN_PUBLISHER,
            ) from exc
        except OSError as exc:
            raise TrustStoreError(
                f"cannot read {path}: {exc.strerror}", code=STORE_INVALID
            ) from exc
        return PublisherRecord.from_json(data)

    def trust_root(self, name: str, *, now: datetime) -> TrustRoot:
        """Publisher ``name``'s trust root from its last update, while that is not expired.

        Raises:
            TrustStoreError: ``trust.publisher.unknown``, ``trust.expired`` or
                ``trust.store.invalid``.
        """
        record = self.record(name)
        moment = as_utc(now, ValueError, "now")
        if record.expires <= moment:
            raise TrustStoreError(
                f"publisher {name!r}: its trust root (version {record.trust_root_version}) expired"
                f" at {record.expires.isoformat()}; run `prov trust update {name}`",
                code=EXPIRED,
            )
        return self._stored_root(name, record)

    def stale_voucher(self, bundles: Sequence[bytes | Bundle], at: datetime) -> str | None:
        """The first publisher whose trust root expired (or cannot be used) at ``at`` but whose
        last stored anchors still vouch for a signer of ``bundles``, or None.

        Discovery fails closed on such a publisher (``trust.expired``): skipping it would let
        another publisher that republishes its anchors answer for it (attacker finding A3).
        """
        moment = as_utc(at, ValueError, "at")
        for record in self.records():
            if record.expires > moment:
                continue
            try:
                stored = self._stored_root(record.name, record)
            except TrustStoreError:
                continue
            if any(vouches(bundle, stored, moment) for bundle in bundles):
                return record.name
        return None

    def _stored_root(self, name: str, record: PublisherRecord) -> TrustRoot:
        """The trust root TUF last verified for ``name``, whether or not it expired since.

        Raises:
            TrustStoreError: ``trust.store.invalid`` (unreadable or not what TUF verified).
        """
        path = self._publisher_dir(name) / _TRUST_ROOT
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TrustStoreError(
                f"cannot read {path}: {exc.strerror}", code=STORE_INVALID
            ) from exc
        if hashlib.sha256(data).hexdigest() != record.trust_root_sha256:
            raise TrustStoreError(
                f"{path} differs from the trust root TUF verified", code=STORE_INVALID
            )
        try:
            return TrustRoot.from_json(data)
        except TrustRootError as exc:
            raise TrustStoreError(f"publisher {name!r}: {exc}", code=STORE_INVALID) from exc

    def verify(
        self,
        content: Content,
        bundle: bytes | Bundle,
        policy: Policy,
        *,
        at: datetime,
        publisher: str | None = None,
    ) -> StoreVerification:
        """Verify against ``publisher``'s trust root, or find the publishers that vouch for the
        bundle's signer (their anchors validate its chain, or they pin its key) and answer with
        the verdict they all agree on: the first that refuses it, else the first.

        A publisher's refusal of its own signer is final: another publisher that republishes the
        same anchors (without the CRL, the log requirement or the log key) cannot overrule it.
        A parsed :class:`Bundle` is checked by each publisher without being parsed again.

        Raises:
            TrustStoreError: ``trust.publisher.unknown``, ``trust.expired`` (the named publisher,
                or in discovery a publisher whose expired trust root vouches for the signer), or
                ``trust.publisher.none`` when no publisher of the store anchors the chain.
        """
        if publisher is not None:
            verifier = Verifier(self.trust_root(publisher, now=at))
            return StoreVerification(publisher, verifier.check(content, bundle, policy, at=at))
        vouching: list[StoreVerification] = []
        skipped: list[str] = []
        for name, trust in self._current_roots(at, skipped):
            result = Verifier(trust).check(_rewound(content), bundle, policy, at=at)
            if result.verified or chain_anchored(result) or vouches(bundle, trust, at):
                vouching.append(StoreVerification(name, result))
        self._refuse_stale_voucher(bundle, at)
        if vouching:
            return agreed_verdict(vouching)
        expired = f"; expired and skipped: {skipped}" if skipped else ""
        raise TrustStoreError(
            f"no publisher of the trust store anchors this bundle's chain{expired}",
            code=NO_PUBLISHER,
        )

    def _refuse_stale_voucher(self, bundle: bytes | Bundle, at: datetime) -> None:
        name = self.stale_voucher([bundle], at)
        if name is not None:
            raise TrustStoreError(
                f"publisher {name!r} vouches for this signer, but its trust root expired; run"
                f" `prov trust update {name}` (no other publisher may answer for its signers)",
                code=EXPIRED,
            )

    def _current_roots(self, at: datetime, skipped: list[str]) -> Iterator[tuple[str, TrustRoot]]:
        for record in self.records():
            try:
                yield record.name, self.trust_root(record.name, now=at)
            except TrustStoreError:
                skipped.append(record.name)

    # Updating.

    def _publisher_dir(self, name: str) -> Path:
        return self.directory / "publishers" / name

    def _staging(self, name: str) -> Path:
        parent = self.directory / "publishers"
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}."))
        except OSError as exc:
            raise TrustStoreError(
                f"cannot write the trust store {parent}: {exc.strerror}", code=STORE_INVALID
            ) from exc

    def _pinned_root(self, base: str, root_sha256: str) -> bytes:
        if not _SHA256_HEX.fullmatch(root_sha256):
            raise TrustStoreError(
                f"--root-sha256 is 64 lowercase hex digits, found {printable(root_sha256)!r}",
                code=STORE_INVALID,
            )
        url = f"{base}{TUF_PATH}/metadata/1.root.json"
        try:
            data = Urllib3Fetcher(socket_timeout=self._timeout).download_bytes(
                url, TUF_LIMITS.max_metadata_bytes
            )
        except DownloadError as exc:
            raise TrustStoreError(f"cannot download {url}: {exc}", code=DOWNLOAD) from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != root_sha256:
            raise TrustStoreError(
                f"the root metadata at {url} has SHA-256 {digest}, not the pinned {root_sha256}",
                code=ROOT_MISMATCH,
            )
        return data

    def _refresh(
        self, directory: Path, name: str, base: str, bootstrap: bytes | None, now: datetime
    ) -> PublisherRecord:
        metadata_dir = directory / "metadata"
        try:
            metadata_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            updater = Updater(
                str(metadata_dir),
                f"{base}{TUF_PATH}/metadata/",
                str(directory / "targets"),
                f"{base}{TUF_PATH}/targets/",
                Urllib3Fetcher(socket_timeout=self._timeout),
                UpdaterConfig(root_max_length=TUF_LIMITS.max_metadata_bytes),
                bootstrap=bootstrap,
            )
            updater.refresh()
            info = updater.get_targetinfo(TRUST_ROOT_TARGET)
            if info is None:
                raise TrustStoreError(
                    f"publisher {name!r}: the targets metadata names no {TRUST_ROOT_TARGET}",
                    code=METADATA_INVALID,
                )
            downloaded = Path(updater.download_target(info, str(directory / f".{_TRUST_ROOT}.new")))
            data = downloaded.read_bytes()
        except (RepositoryError, DownloadError, OSError, ValueError) as exc:
            raise _refused(name, exc) from exc
        try:
            TrustRoot.from_json(data)
        except TrustRootError as exc:
            raise TrustStoreError(
                f"publisher {name!r}: the signed trust root is unusable: {exc}",
                code=METADATA_INVALID,
            ) from exc
        downloaded.replace(directory / _TRUST_ROOT)
        record = _record(name, base, metadata_dir, data, now)
        (directory / _RECORD).write_bytes(record.to_json())
        return record


def _record(
    name: str, base: str, metadata_dir: Path, trust_root: bytes, now: datetime
) -> PublisherRecord:
    root = Metadata[Root].from_bytes((metadata_dir / "root.json").read_bytes()).signed
    targets = Metadata[Targets].from_bytes((metadata_dir / "targets.json").read_bytes()).signed
    return PublisherRecord(
        name=name,
        url=base,
        root_version=root.version,
        trust_root_version=targets.version,
        expires=targets.expires,
        trust_root_sha256=hashlib.sha256(trust_root).hexdigest(),
        updated=as_utc(now, ValueError, "now").replace(microsecond=0),
    )


_REFUSALS: tuple[tuple[type[Exception], str, str], ...] = (
    (BadVersionNumberError, ROLLBACK, "rollback refused"),
    (ExpiredMetadataError, EXPIRED, "expired metadata refused (freeze)"),
    (UnsignedMetadataError, SIGNATURE, "metadata not signed by the keys its root names"),
    (
        LengthOrHashMismatchError,
        TARGET_MISMATCH,
        "a file differs from what its signed metadata says",
    ),
    (DownloadError, DOWNLOAD, "download failed"),
    (RepositoryError, METADATA_INVALID, "invalid metadata"),
)


def _refused(name: str, exc: Exception) -> TrustStoreError:
    """The one-line error for a failed ngclient refresh or download."""
    detail = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    for kind, code, summary in _REFUSALS:
        if isinstance(exc, kind):
            return TrustStoreError(f"publisher {name!r}: {summary}: {detail}", code=code)
    return TrustStoreError(f"publisher {name!r}: cannot update: {detail}", code=STORE_INVALID)


def chain_anchored(result: VerificationResult) -> bool:
    """Whether the certificate step of ``result`` validated the chain to a trust-root anchor."""
    return any(f.step == "certificate" and f.ok for f in result.findings)


def agreed_verdict(vouching: list[StoreVerification]) -> StoreVerification:
    """The verdict of the publishers that vouch for one signer: the first refusal, else the first
    (non-empty ``vouching``, in store order)."""
    return next((v for v in vouching if not v.result.verified), vouching[0])


def armored_publisher(
    roots: Sequence[tuple[str, TrustRoot]], document: str | bytes, policy: Policy, *, at: datetime
) -> tuple[str, TrustRoot] | None:
    """The publisher whose verdict on a clear-signed document stands, as :meth:`TrustStore.verify`
    decides for a bundle: among the publishers that vouch for a signer of one of its blocks, the
    first that refuses the document, else the first; ``None`` when none vouches."""
    vouching: list[tuple[str, TrustRoot, bool]] = []
    for name, trust in roots:
        checked = check_armored(Verifier(trust), document, policy, at=at)
        if checked.verified or any(
            chain_anchored(b.result) or vouches(b.block.bundle_bytes, trust, at)
            for b in checked.blocks
        ):
            vouching.append((name, trust, checked.verified))
    if not vouching:
        return None
    name, trust, _ = next((v for v in vouching if not v[2]), vouching[0])
    return name, trust


def vouches(bundle: bytes | Bundle, trust: TrustRoot, at: datetime) -> bool:
    """Whether ``trust`` vouches for the bundle's signer: it pins the bundle's key, or the chain
    leads to one of its anchors at ``at`` or at another time (a verification that failed before
    its certificate step, e.g. at an untrusted log, still belongs to the publisher whose anchors
    certify the signer)."""
    try:
        parsed = Bundle.from_bytes(bundle) if isinstance(bundle, bytes) else bundle
        if parsed.public_key_hint is not None:
            return trust.pinned_key(parsed.public_key_hint) is not None
        validate_chain(parsed.certificates, trust, at)
    except CertificateError as exc:
        return exc.code in {EXPIRED_CERTIFICATE, NOT_YET_VALID}
    except (ProvenanceError, ValueError):
        return False
    return True


def _rewound(content: Content) -> Content:
    if not isinstance(content, bytes):
        content.seek(0)
    return content


_T = TypeVar("_T", str, int)


def _field(document: dict[str, Any], name: str, kind: type[_T]) -> _T:
    """``document[name]`` if it is of JSON type ``kind`` exactly (no boolean for an integer).

    Raises:
        ValueError: Of another type ("expected X, found Y").
    """
    value = document[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"expected {name} {_json_type(kind())}, found {_json_type(value)}")
    return value


def _json_type(value: object) -> str:
    """The JSON type of a parsed value, for a message."""
    if value is None:
        return "null"
    for kind, name in _JSON_TYPES:
        if isinstance(value, kind):
            return name
    return "an object"


_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number with a fraction or exponent"),
    (str, "a string"),
    (list, "an array"),
)


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time, found {value!r}")
    return as_utc(datetime.fromisoformat(value), ValueError, "time")
