"""The publisher's TUF repository: signed, versioned distribution of its trust root.

See ``specs/trust-distribution-v1.md``. The repository lives in a directory of the publisher home:
``metadata/`` (``<v>.root.json`` for every root version, ``<v>.targets.json``,
``<v>.snapshot.json``, ``timestamp.json``: consistent snapshots), ``targets/``
(``<sha256>.trust-root.json``) and ``online.key`` (the Ed25519 key of the targets, snapshot and
timestamp roles, encrypted with the home's passphrase). The root role's key is the authority's
offline root CA key: it signs root metadata only, in the operations that unlock it.

Metadata is built and signed with python-tuf's ``tuf.api.metadata``; this module never verifies
metadata for a client (that is ``tuf.ngclient``'s job, see :mod:`provenance.trust_store`).
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_der_public_key
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

from provenance.errors import KeyFormatError, ProvenanceError
from provenance.identity.trust import TrustRoot
from provenance.keys import (
    KeyType,
    SigningKey,
    VerifyingKey,
    generate_key,
    load_private_key,
    write_private_key,
)

__all__ = [
    "ONLINE_KEY",
    "TRUST_ROOT_TARGET",
    "TUF_LIMITS",
    "RepositoryState",
    "TrustRepository",
    "TrustRepositoryError",
    "TufLimits",
]
"""The face of this module: the CLI and the service import only these names from it."""

TRUST_ROOT_TARGET = "trust-root.json"
METADATA_DIR = "metadata"
TARGETS_DIR = "targets"
ONLINE_KEY = "online.key"
ROOT_LIFETIME = timedelta(days=365)
TARGETS_LIFETIME = timedelta(days=7)
SNAPSHOT_LIFETIME = timedelta(days=7)
TIMESTAMP_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class TufLimits:
    """The caps of TUF metadata (the repository, the trust store and ``prov trust``).

    Attributes:
        max_metadata_bytes: One metadata file (root, targets, snapshot, timestamp).
    """

    max_metadata_bytes: int = 512 * 1024


TUF_LIMITS = TufLimits()


ONLINE_ROLES = (Targets.type, Snapshot.type, Timestamp.type)
METADATA_FILE = re.compile(r"(?:[1-9][0-9]{0,9}\.(?:root|targets|snapshot)|timestamp)\.json")
TARGET_FILE = re.compile(r"[0-9a-f]{64}\.trust-root\.json")
_LOCK = ".lock"


class TrustRepositoryError(ProvenanceError):
    """The publisher's TUF repository is missing, unreadable or cannot be signed."""


def tuf_public_key(key: VerifyingKey) -> SSlibKey:
    """The TUF (securesystemslib) form of ``key``."""
    return SSlibKey.from_crypto(load_der_public_key(key.spki_der))


def tuf_signer(key: SigningKey) -> CryptoSigner:
    """A TUF signer for ``key``."""
    return CryptoSigner(key.to_cryptography(), tuf_public_key(key.public_key))


@dataclass(frozen=True)
class RepositoryState:
    """The versions and expiries a repository currently serves.

    Attributes:
        root_version: The newest root metadata version.
        root_expires: When it expires.
        targets_version: The current targets version (the trust root's version), 0 before any.
        targets_expires: When it expires, ``None`` before any.
        trust_root_sha256: The SHA-256 (hex) of the published trust root, ``None`` before any.
    """

    root_version: int
    root_expires: datetime
    targets_version: int
    targets_expires: datetime | None
    trust_root_sha256: str | None


class TrustRepository:
    """The TUF repository in ``directory`` (see the module docstring for the layout).

    Args:
        directory: The repository directory (``<home>/tuf``).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.metadata_dir = directory / METADATA_DIR
        self.targets_dir = directory / TARGETS_DIR

    @classmethod
    def create(
        cls, directory: Path, *, root_key: SigningKey, passphrase: bytes, now: datetime
    ) -> TrustRepository:
        """Create a repository: a new online key and root metadata version 1 signed by ``root_key``.

        Raises:
            TrustRepositoryError: The directory holds a repository already or cannot be written.
        """
        repository = cls(directory)
        if repository.metadata_dir.exists():
            raise TrustRepositoryError(f"{directory} holds a TUF repository already")
        online_key = generate_key(KeyType.ED25519)
        try:
            repository.metadata_dir.mkdir(mode=0o700, parents=True)
            repository.targets_dir.mkdir(mode=0o700)
            write_private_key(directory / ONLINE_KEY, online_key, passphrase)
        except (OSError, KeyFormatError) as exc:
            raise TrustRepositoryError(
                f"cannot create the TUF repository {directory}: {exc}"
            ) from exc
        root = Root(version=1, expires=_expiry(now, ROOT_LIFETIME), consistent_snapshot=True)
        root.add_key(tuf_public_key(root_key.public_key), Root.type)
        for role in ONLINE_ROLES:
            root.add_key(tuf_public_key(online_key.public_key), role)
        repository._write_signed(Metadata(root), [root_key], "1.root.json")
        return repository

    def load_online_key(self, passphrase: bytes | None) -> SigningKey:
        """The online roles' key, decrypted with ``passphrase``.

        Raises:
            TrustRepositoryError: Missing, unreadable or not the key root metadata names.
        """
        path = self.directory / ONLINE_KEY
        try:
            key = load_private_key(path.read_bytes(), passphrase)
        except (OSError, KeyFormatError) as exc:
            raise TrustRepositoryError(f"cannot load the TUF online key {path}: {exc}") from exc
        root = self._root().signed
        if tuf_public_key(key.public_key).keyid not in root.roles[Timestamp.type].keyids:
            raise TrustRepositoryError(
                f"{path} is not the key the root metadata names for timestamp"
            )
        return key

    def state(self) -> RepositoryState:
        """The versions and expiries served now.

        Raises:
            TrustRepositoryError: The metadata is missing or unreadable.
        """
        root = self._root().signed
        targets = self._current_targets()
        if targets is None:
            return RepositoryState(root.version, root.expires, 0, None, None)
        info = targets.signed.targets.get(TRUST_ROOT_TARGET)
        digest = info.hashes.get("sha256") if info is not None else None
        return RepositoryState(
            root.version, root.expires, targets.signed.version, targets.signed.expires, digest
        )

    def root_bytes(self, version: int | None = None) -> bytes:
        """Root metadata of ``version`` (default: the newest), as served.

        Raises:
            TrustRepositoryError: No such version.
        """
        number = version or self._root_version()
        return self._read(f"{number}.root.json")

    def publish(
        self, trust_root: bytes, online_key: SigningKey, now: datetime, *, force: bool = False
    ) -> bool:
        """Bring the repository up to date at ``now``: every signature made here is online.

        A trust root other than the published one, or targets within half their lifetime of
        expiry, get a new targets version (and snapshot); a snapshot within half its lifetime gets
        a new version; the timestamp is re-signed after either, or within half its lifetime.

        Args:
            trust_root: The trust root file to publish.
            online_key: The targets, snapshot and timestamp key.
            now: The signing time.
            force: Sign new versions of every online role (after a new online key).

        Returns:
            Whether anything was signed.

        Raises:
            TrustRepositoryError: The repository cannot be read or written.
        """
        with self._locked():
            targets = self._current_targets()
            trust_root = self._newest_crls(targets, trust_root)
            changed = force or targets is None or _needs_targets(targets, trust_root, now)
            if changed:
                self._publish_targets(trust_root, online_key, now, targets)
            snapshot = self._current_snapshot()
            if (
                snapshot is None
                or changed
                or _stale(snapshot.signed.expires, SNAPSHOT_LIFETIME, now)
            ):
                self._publish_snapshot(online_key, now, snapshot)
                changed = True
            timestamp = self._current_timestamp()
            if (
                timestamp is None
                or changed
                or _stale(timestamp.signed.expires, TIMESTAMP_LIFETIME, now)
            ):
                self._publish_timestamp(online_key, now, timestamp)
                changed = True
            return changed

    def sign_root(
        self,
        root_key: SigningKey,
        now: datetime,
        *,
        new_root_key: SigningKey | None = None,
        new_online_key: VerifyingKey | None = None,
    ) -> int:
        """Sign the next root version with the offline root key: a fresh expiry, and optionally a
        new root key (the new version is signed by the old and the new key) or online key.

        Returns:
            The new root version.

        Raises:
            TrustRepositoryError: ``root_key`` is not the current root key, or a write failed.
        """
        with self._locked():
            current = self._root()
            old_id = tuf_public_key(root_key.public_key).keyid
            if old_id not in current.signed.roles[Root.type].keyids:
                raise TrustRepositoryError(
                    "the given key is not the root key of the TUF root metadata"
                )
            root = current.signed
            root.version += 1
            root.expires = _expiry(now, ROOT_LIFETIME)
            signers = [root_key]
            if new_root_key is not None:
                root.revoke_key(old_id, Root.type)
                root.add_key(tuf_public_key(new_root_key.public_key), Root.type)
                signers.append(new_root_key)
            if new_online_key is not None:
                for role in ONLINE_ROLES:
                    for keyid in list(root.roles[role].keyids):
                        root.revoke_key(keyid, role)
                    root.add_key(tuf_public_key(new_online_key), role)
            self._write_signed(Metadata(root), signers, f"{root.version}.root.json")
            return root.version

    def metadata_file(self, name: str) -> bytes | None:
        """A served metadata file by name, ``None`` when the name is not one or is absent."""
        if not METADATA_FILE.fullmatch(name):
            return None
        return _read_optional(self.metadata_dir / name)

    def target_file(self, name: str) -> bytes | None:
        """A served target file by name (``<sha256>.trust-root.json``), ``None`` when absent."""
        if not TARGET_FILE.fullmatch(name):
            return None
        return _read_optional(self.targets_dir / name)

    # Reading.

    def _root_version(self) -> int:
        versions = [
            int(path.name.split(".", 1)[0])
            for path in self._list(self.metadata_dir)
            if re.fullmatch(r"[1-9][0-9]*\.root\.json", path.name)
        ]
        if not versions:
            raise TrustRepositoryError(f"{self.metadata_dir} holds no root metadata")
        return max(versions)

    def _root(self) -> Metadata[Root]:
        return _parse(self.root_bytes(), Root)

    def _current_timestamp(self) -> Metadata[Timestamp] | None:
        data = _read_optional(self.metadata_dir / "timestamp.json")
        return None if data is None else _parse(data, Timestamp)

    def _current_snapshot(self) -> Metadata[Snapshot] | None:
        timestamp = self._current_timestamp()
        if timestamp is None:
            return None
        version = timestamp.signed.snapshot_meta.version
        return _parse(self._read(f"{version}.snapshot.json"), Snapshot)

    def _newest_crls(self, targets: Metadata[Targets] | None, trust_root: bytes) -> bytes:
        """``trust_root``, or the published trust root where ``trust_root`` would take it back to
        an older CRL of an issuer (a worker or replica whose CRL is seconds behind must not
        undo a revocation: TUF clients take any newer targets version)."""
        info = None if targets is None else targets.signed.targets.get(TRUST_ROOT_TARGET)
        if info is None:
            return trust_root
        published = self.target_file(f"{info.hashes['sha256']}.{TRUST_ROOT_TARGET}")
        if published is None or published == trust_root:
            return trust_root
        return published if _rolls_back_crls(published, trust_root) else trust_root

    def _current_targets(self) -> Metadata[Targets] | None:
        snapshot = self._current_snapshot()
        if snapshot is None:
            return None
        version = snapshot.signed.meta[f"{Targets.type}.json"].version
        return _parse(self._read(f"{version}.targets.json"), Targets)

    def _read(self, name: str) -> bytes:
        data = _read_optional(self.metadata_dir / name)
        if data is None:
            raise TrustRepositoryError(f"{self.metadata_dir / name} is missing")
        return data

    @staticmethod
    def _list(directory: Path) -> list[Path]:
        try:
            return list(directory.iterdir())
        except OSError as exc:
            raise TrustRepositoryError(f"cannot read {directory}: {exc.strerror}") from exc

    # Writing.

    def _publish_targets(
        self,
        trust_root: bytes,
        key: SigningKey,
        now: datetime,
        previous: Metadata[Targets] | None,
    ) -> None:
        version = 1 if previous is None else previous.signed.version + 1
        target = TargetFile.from_data(TRUST_ROOT_TARGET, trust_root, ["sha256"])
        _write_atomic(
            self.targets_dir / f"{target.hashes['sha256']}.{TRUST_ROOT_TARGET}", trust_root
        )
        targets = Targets(version=version, expires=_expiry(now, TARGETS_LIFETIME))
        targets.targets[TRUST_ROOT_TARGET] = target
        self._write_signed(Metadata(targets), [key], f"{version}.targets.json")

    def _publish_snapshot(
        self, key: SigningKey, now: datetime, previous: Metadata[Snapshot] | None
    ) -> None:
        targets = self._newest(Targets.type)
        version = 1 if previous is None else previous.signed.version + 1
        snapshot = Snapshot(version=version, expires=_expiry(now, SNAPSHOT_LIFETIME))
        snapshot.meta[f"{Targets.type}.json"] = MetaFile(version=targets)
        self._write_signed(Metadata(snapshot), [key], f"{version}.snapshot.json")

    def _publish_timestamp(
        self, key: SigningKey, now: datetime, previous: Metadata[Timestamp] | None
    ) -> None:
        snapshot_version = self._newest(Snapshot.type)
        version = 1 if previous is None else previous.signed.version + 1
        timestamp = Timestamp(
            version=version,
            expires=_expiry(now, TIMESTAMP_LIFETIME),
            snapshot_meta=MetaFile(version=snapshot_version),
        )
        self._write_signed(Metadata(timestamp), [key], "timestamp.json")

    def _newest(self, role: str) -> int:
        pattern = re.compile(rf"([1-9][0-9]*)\.{role}\.json")
        versions = [
            int(match[1])
            for path in self._list(self.metadata_dir)
            if (match := pattern.fullmatch(path.name))
        ]
        if not versions:
            raise TrustRepositoryError(f"{self.metadata_dir} holds no {role} metadata")
        return max(versions)

    def _write_signed(self, metadata: Metadata, keys: list[SigningKey], name: str) -> None:  # type: ignore[type-arg]
        metadata.signatures.clear()
        for key in keys:
            metadata.sign(tuf_signer(key), append=True)
        _write_atomic(self.metadata_dir / name, metadata.to_bytes())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            handle = (self.directory / _LOCK).open("a")
        except OSError as exc:
            raise TrustRepositoryError(f"cannot lock {self.directory}: {exc.strerror}") from exc
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _parse(
    data: bytes, kind: type[Root] | type[Targets] | type[Snapshot] | type[Timestamp]
) -> Metadata:  # type: ignore[type-arg]
    try:
        metadata = Metadata.from_bytes(data)
    except Exception as exc:  # python-tuf raises several types for bad metadata
        raise TrustRepositoryError(f"unreadable {kind.type} metadata: {exc}") from exc
    if not isinstance(metadata.signed, kind):
        raise TrustRepositoryError(f"expected {kind.type} metadata, found {metadata.signed.type}")
    return metadata


def _needs_targets(targets: Metadata[Targets], trust_root: bytes, now: datetime) -> bool:
    info = targets.signed.targets.get(TRUST_ROOT_TARGET)
    if info is None or _stale(targets.signed.expires, TARGETS_LIFETIME, now):
        return True
    return (
        info.hashes.get("sha256")
        != TargetFile.from_data("", trust_root, ["sha256"]).hashes["sha256"]
    )


def _rolls_back_crls(published: bytes, candidate: bytes) -> bool:
    """Whether ``candidate`` holds, for an issuer of ``published``, a lower CRL number.

    Bytes that are not both trust roots have no CRL numbers to compare.
    """
    old, new = _crl_numbers(published), _crl_numbers(candidate)
    return any(number < old[issuer] for issuer, number in new.items() if issuer in old)


def _crl_numbers(document: bytes) -> dict[bytes, int]:
    try:
        crls = TrustRoot.from_json(document).crls
    except ProvenanceError:
        return {}
    numbers: dict[bytes, int] = {}
    for crl in crls:
        try:
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound:
            continue
        issuer = crl.issuer.public_bytes()
        numbers[issuer] = max(number, numbers.get(issuer, number))
    return numbers


def _stale(expires: datetime, lifetime: timedelta, now: datetime) -> bool:
    return expires - now < lifetime / 2


def _expiry(now: datetime, lifetime: timedelta) -> datetime:
    return (now + lifetime).replace(microsecond=0)


def _read_optional(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            return handle.read(TUF_LIMITS.max_metadata_bytes + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TrustRepositoryError(f"cannot read {path}: {exc.strerror}") from exc


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        raise TrustRepositoryError(f"cannot write {path}: {exc.strerror}") from exc
