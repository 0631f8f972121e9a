"""The publisher home: its authority, signing-service key and chain, and log key.

Layout of a home (made by :func:`init_home`): ``ca/`` (the authority; see
:mod:`provenance.identity.storage`), ``service.key`` + ``service.pem`` (the signing service's P-256
key, encrypted, and the chain the CA issued for ``<base-url>/signing-service``), ``log.key`` (the
Ed25519 checkpoint key, encrypted; its note name is the log origin), ``tuf/`` (the TUF repository
that distributes the trust root, see :mod:`provenance.trust_repository`) and ``settings.json``. Keys are
read from these encrypted PEM files only: never from the database, never returned by the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance import (
    AuthorityError,
    Ed25519SigningKey,
    KeyFormatError,
    KeyType,
    ProvenanceError,
    Signer,
    SigningKey,
    generate_key,
    load_private_key,
    write_private_key,
)
from provenance.identity import (
    CertificateAuthority,
    create_authority,
    crl_distribution_point,
    issue_certificate,
    load_authority,
    parse_identity,
    save_authority,
)
from provenance.tlog import NoteSigner, is_valid_key_name, signer_binding
from provenance.trust_repository import TrustRepository
from verifier_api.settings import HOME_SETTINGS_FILE, HomeSettings, SettingsError

CA_DIR = "ca"
SERVICE_KEY = "service.key"
SERVICE_CHAIN = "service.pem"
LOG_KEY = "log.key"
TUF_DIR = "tuf"
RETIRED_DIR = "retired"
RETIRED_LOG_KEYS = "log-keys.txt"
ROOT_CRL = "root.crl.pem"
SERVICE_CERTIFICATE_DAYS = 825
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Retired:
    """What earlier rotations left in ``<home>/retired/``, still needed by verifiers.

    Attributes:
        issuing: Retired issuing CA certificates (``issuing-<serial>.pem``).
        crls: Their final CRLs (``issuing-<serial>.crl.pem``) and the root's CRL (``root.crl.pem``).
        log_keys: Retired log verifier keys (``log-keys.txt``, one a line), same origin.
    """

    issuing: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    log_keys: tuple[str, ...] = ()


def load_retired(home: Path) -> Retired:
    """Read ``<home>/retired/`` (empty when absent).

    Raises:
        OSError, ValueError: A file is unreadable or not PEM.
    """
    directory = home / RETIRED_DIR
    if not directory.is_dir():
        return Retired()
    names = sorted(path.name for path in directory.iterdir())
    issuing = tuple(
        x509.load_pem_x509_certificate((directory / name).read_bytes())
        for name in names
        if name.startswith("issuing-") and name.endswith(".pem") and not name.endswith(".crl.pem")
    )
    crls = tuple(
        x509.load_pem_x509_crl((directory / name).read_bytes())
        for name in names
        if name.endswith(".crl.pem")
    )
    keys_file = directory / RETIRED_LOG_KEYS
    log_keys = tuple(keys_file.read_text().split()) if keys_file.exists() else ()
    return Retired(issuing, crls, log_keys)


@dataclass(frozen=True)
class Publisher:
    """Everything the service signs and certifies with, loaded from a home.

    Attributes:
        settings: Name, log origin and base URL.
        authority: The issuing CA (its root key stays offline in the home).
        service_key: The signing service's private key.
        service_chain: The signing service's chain, leaf first.
        log_signer: Signs checkpoints as the log origin.
        retired: Issuing CAs, CRLs and log keys kept after rotations (see :class:`Retired`).
    """

    settings: HomeSettings
    authority: CertificateAuthority
    service_key: SigningKey
    service_chain: tuple[x509.Certificate, ...]
    log_signer: NoteSigner
    retired: Retired = field(default_factory=Retired)

    @property
    def service_identity(self) -> str:
        """The identity the signing service's certificate carries."""
        return service_identity(self.settings.base_url)

    @cached_property
    def service_signer(self) -> Signer:
        """The signing service's signer without a log (built once: it checks the key against the
        leaf certificate).

        Raises:
            KeyFormatError: The service key is not the leaf certificate's key.
        """
        return Signer(self.service_key, self.service_chain)

    @cached_property
    def service_binding(self) -> tuple[bytes, bytes | None]:
        """What a log leaf binds of the signing service: its leaf certificate's SHA-256 and DER
        (see ``provenance.tlog.entry.signer_binding``), computed once."""
        return signer_binding(self.service_chain, self.service_key.public_key)


def service_identity(base_url: str) -> str:
    """The signing service's identity for a publisher at ``base_url``."""
    return f"{base_url}/signing-service"


def crl_url(base_url: str) -> str:
    """Where the service serves its CRL (``GET /v1/crl``, DER): every leaf's distribution point."""
    return f"{base_url}/v1/crl"


def default_base_url(name: str) -> str:
    """A placeholder public base URL derived from the publisher's name (e.g. for demos)."""
    return f"https://{_SLUG.sub('-', name.lower()).strip('-') or 'publisher'}.example"


def default_origin(base_url: str) -> str:
    """The default log origin: ``<host of base_url>/log``."""
    return f"{urlsplit(base_url).hostname}/log"


def home_settings(
    name: str, origin: str | None, base_url: str | None, crl_url: str | None = None
) -> HomeSettings:
    """Check and complete the public settings of a new home.

    Raises:
        SettingsError: A base URL that cannot carry identities, an invalid origin or a CRL URL
            that is not an http(s) URL.
    """
    url = (base_url or default_base_url(name)).rstrip("/")
    try:
        parse_identity(service_identity(url))
    except ProvenanceError as exc:
        raise SettingsError(f"base URL {url!r} cannot name identities: {exc}") from exc
    log_origin = origin or default_origin(url)
    if not is_valid_key_name(log_origin):
        raise SettingsError(f"log origin {log_origin!r} is not a valid note key name")
    if crl_url is not None:
        try:
            crl_distribution_point(crl_url)
        except AuthorityError as exc:
            raise SettingsError(str(exc)) from exc
    return HomeSettings(name, log_origin, url, crl_url)


def init_home(home: Path, settings: HomeSettings, passphrase: bytes, *, now: datetime) -> None:
    """Create a publisher home: authority, service key and chain, log key, settings.

    Raises:
        SettingsError: The home holds a publisher already.
        ProvenanceError: Key or certificate creation failed.
    """
    if (home / HOME_SETTINGS_FILE).exists():
        raise SettingsError(f"{home} holds a publisher already")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    new = create_authority(settings.name, now=now)
    authority = save_authority(home / CA_DIR, new, passphrase=passphrase)
    authority.crl_url = settings.crl_location
    service_key = generate_key(KeyType.P256)
    chain = issue_certificate(
        authority,
        service_key.public_key,
        service_identity(settings.base_url),
        now=now,
        days=SERVICE_CERTIFICATE_DAYS,
    )
    write_private_key(home / SERVICE_KEY, service_key, passphrase)
    (home / SERVICE_CHAIN).write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    write_private_key(home / LOG_KEY, generate_key(KeyType.ED25519), passphrase)
    TrustRepository.create(home / TUF_DIR, root_key=new.root_key, passphrase=passphrase, now=now)
    (home / HOME_SETTINGS_FILE).write_bytes(settings.to_json())


def load_publisher(home: Path, passphrase: bytes) -> Publisher:
    """Load the publisher of ``home`` (decrypting its keys with ``passphrase``).

    Raises:
        SettingsError: A file is missing, a key does not decrypt or is of the wrong type.
    """
    settings = HomeSettings.read(home)
    try:
        authority = load_authority(home / CA_DIR, passphrase=passphrase)
        service_key = load_private_key((home / SERVICE_KEY).read_bytes(), passphrase)
        chain = tuple(x509.load_pem_x509_certificates((home / SERVICE_CHAIN).read_bytes()))
        log_key = load_private_key((home / LOG_KEY).read_bytes(), passphrase)
        retired = load_retired(home)
    except (OSError, ValueError, ProvenanceError) as exc:
        raise SettingsError(f"cannot load the publisher home {home}: {exc}") from exc
    if not isinstance(log_key, Ed25519SigningKey):
        raise SettingsError(f"{home / LOG_KEY} must be an Ed25519 key")
    try:
        signer = NoteSigner(settings.origin, log_key)
    except KeyFormatError as exc:
        raise SettingsError(f"log origin {settings.origin!r}: {exc}") from exc
    authority.crl_url = settings.crl_location
    return Publisher(settings, authority, service_key, chain, signer, retired)
