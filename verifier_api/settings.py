"""Service settings from the environment (prefix ``PROVENANCE_``), validated at start.

A publisher home holds the keys and ``settings.json`` (name, origin, base URL: no secrets); the
environment says where the home is, which database to use, the passphrase of the encrypted keys
and the limits. Placeholder or empty secrets are refused before anything is served.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from provenance import StrictDecodeError, loads_strict
from verifier_api.service_errors import ServiceError

HOME_SETTINGS_FILE = "settings.json"
DEFAULT_DATABASE_FILE = "provenance.db"


@dataclass(frozen=True)
class HttpLimits:
    """The service's fixed caps (the configurable ones are :class:`Settings` fields).

    Attributes:
        max_request_depth: Nesting of a JSON request body.
        max_validation_messages: Validation messages quoted in one 422 answer.
        max_cached_keys: API keys kept in the key cache.
        max_tracked_keys: API keys the in-memory rate limiter tracks.
        max_form_json_bytes: A JSON form field (``policy``, ``claims``) of the media routes.
        max_home_settings_bytes: The home's ``settings.json``.
        max_listed_reviews: Reviews the demo page lists.
        max_review_file_bytes: One stored demo review.
        max_batch_identity_patterns: Identity patterns in the distinct policies of one
            ``/v1/verify/batch`` (twice the 4 of one policy): a batch costs at most twice the
            pattern compilation of one request, whatever its item count.
        max_inline_verify_bytes: A ``/v1/verify`` body verified on the event loop (no thread
            hand-off) when nothing in its verification can wait on I/O; a larger one goes to
            the thread pool, so that it cannot hold up the other requests for long.
        max_inline_parse_bytes: A JSON request body strictly parsed on the event loop by the
            request gate; a larger one is parsed in the thread pool, so that a body built to be
            slow to parse (e.g. 1 MiB of nested empty arrays) cannot hold up the other requests.
    """

    max_request_depth: int = 32
    max_validation_messages: int = 5
    max_cached_keys: int = 10_000
    max_tracked_keys: int = 100_000
    max_form_json_bytes: int = 16 * 1024
    max_home_settings_bytes: int = 64 * 1024
    max_listed_reviews: int = 50
    max_review_file_bytes: int = 2 * 1024 * 1024
    max_batch_identity_patterns: int = 8
    max_inline_verify_bytes: int = 64 * 1024
    max_inline_parse_bytes: int = 64 * 1024


HTTP_LIMITS = HttpLimits()


MIN_PASSPHRASE_CHARS = 8
PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "changethis",
        "change-this",
        "secret",
        "password",
        "passphrase",
        "example",
        "placeholder",
        "todo",
        "xxx",
        "default",
        "test",
    }
)


class SettingsError(ServiceError, ValueError):
    """The settings or the publisher home are unusable; the service refuses to start."""


def check_secret(value: str, what: str) -> str:
    """Refuse an empty, short or placeholder secret; return it unchanged otherwise.

    Raises:
        SettingsError: The secret is empty, shorter than 8 characters or a known placeholder.
    """
    if not value.strip():
        raise SettingsError(f"{what} is empty")
    if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < MIN_PASSPHRASE_CHARS:
        raise SettingsError(
            f"{what} is a placeholder or shorter than {MIN_PASSPHRASE_CHARS} characters;"
            " set a real secret"
        )
    return value


class Settings(BaseSettings):
    """The service's settings (environment variables ``PROVENANCE_<NAME>``).

    Attributes:
        home: The publisher home created by ``prov init``.
        database_url: SQLAlchemy URL; default a SQLite file inside the home.
        passphrase: The passphrase of the encrypted keys in the home.
        passphrase_file: A file holding that passphrase (first line), instead of ``passphrase``.
        max_body_bytes: Request bodies above this are refused with 413 before parsing.
        max_media_bytes: The same cap for the media upload routes.
        max_batch_items: The most items one ``/v1/verify/batch`` request may hold.
        rate_limit_per_minute: Requests one API key may make per fixed one-minute window.
        api_key_cache_seconds: How long an API key's row is used without reading it again: a
            key revoked in the database stops working within this many seconds (0: read on
            every request).
        crl_check_seconds: How often, at most, a replica reads the current CRL number: a
            revocation made on another replica counts within this many seconds (one made on this
            replica counts at once; 0: read on every request).
        crl_refresh_seconds: How often each process checks whether the stored CRL is within a
            day of its nextUpdate and, if so, re-issues it (off the request path; of all workers
            and replicas one publishes).
        redis_url: A Redis shared by the replicas for the rate limit (one budget per key across
            all of them); without it each replica and worker process counts on its own.
        sign_batch_max: The most signatures the sequencer appends to the log in one commit.
        log_tile_cache_tiles: Full log tiles whose node hashes a worker keeps in memory for
            inclusion and consistency proofs (about 16.6 KB each; the default 4096 holds every
            tile of a log of about a million entries in 68 MB; 0 reads every proof's tiles from
            the database).
        trust_store: A trust store (``prov trust``): ``/v1/verify`` also verifies bundles of its
            publishers (the one whose anchors validate the chain), kept current by
            ``prov trust update``.
    """

    model_config = SettingsConfigDict(env_prefix="PROVENANCE_", extra="ignore")

    home: Path
    database_url: str | None = None
    passphrase: SecretStr | None = None
    passphrase_file: Path | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_media_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    max_batch_items: int = Field(default=32, ge=1, le=1000)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    crl_check_seconds: float = Field(default=5.0, ge=0, le=300)
    crl_refresh_seconds: float = Field(default=300.0, gt=0, le=3600)
    redis_url: str | None = None
    sign_batch_max: int = Field(default=256, ge=1, le=4096)
    log_tile_cache_tiles: int = Field(default=4096, ge=0, le=1_000_000)
    trust_store: Path | None = None

    @field_validator("passphrase")
    @classmethod
    def _passphrase_is_real(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value(), "PROVENANCE_PASSPHRASE")
        return value

    @model_validator(mode="after")
    def _one_passphrase_source(self) -> Settings:
        if self.passphrase is not None and self.passphrase_file is not None:
            raise SettingsError("set PROVENANCE_PASSPHRASE or PROVENANCE_PASSPHRASE_FILE, not both")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the home."""
        return self.database_url or f"sqlite:///{self.home / DEFAULT_DATABASE_FILE}"

    def passphrase_bytes(self) -> bytes:
        """The keys' passphrase from the environment or the passphrase file.

        Raises:
            SettingsError: None is set, the file is unreadable, or the secret is a placeholder.
        """
        if self.passphrase is not None:
            return self.passphrase.get_secret_value().encode("utf-8")
        if self.passphrase_file is None:
            raise SettingsError(
                "the keys are encrypted: set PROVENANCE_PASSPHRASE or PROVENANCE_PASSPHRASE_FILE"
            )
        try:
            text = self.passphrase_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read PROVENANCE_PASSPHRASE_FILE: {exc}") from exc
        secret = text[0] if text else ""
        return check_secret(secret, "PROVENANCE_PASSPHRASE_FILE").encode("utf-8")


@dataclass(frozen=True)
class HomeSettings:
    """The public facts of a publisher home (``settings.json``).

    Attributes:
        name: The publisher's name (the authority's name, the predicate's publisher).
        origin: The log's origin, also the checkpoint key's name.
        base_url: The public https base URL (author ids are ``<base_url>/u/<accountId>``).
        crl_url: The CRL distribution point written into every certificate, when it is not
            ``<base_url>/v1/crl`` (e.g. a plain http URL, which OpenSSL and most X.509
            validators fetch; a CRL is signed, so it needs no TLS).
    """

    name: str
    origin: str
    base_url: str
    crl_url: str | None = None

    @property
    def crl_location(self) -> str:
        """Where certificates say the CRL lives: ``crl_url``, else ``<base_url>/v1/crl``."""
        return self.crl_url or f"{self.base_url}/v1/crl"

    def to_json(self) -> bytes:
        """The ``settings.json`` document."""
        document = {"name": self.name, "origin": self.origin, "baseUrl": self.base_url}
        if self.crl_url is not None:
            document["crlUrl"] = self.crl_url
        return json.dumps(document, indent=2).encode("utf-8") + b"\n"

    @classmethod
    def read(cls, home: Path) -> HomeSettings:
        """Read ``settings.json`` from ``home``.

        Raises:
            SettingsError: Missing, unreadable or malformed.
        """
        path = home / HOME_SETTINGS_FILE
        try:
            document: Any = loads_strict(
                path.read_bytes(), max_bytes=HTTP_LIMITS.max_home_settings_bytes
            )
        except (OSError, StrictDecodeError) as exc:
            raise SettingsError(f"cannot read {path}: {exc}; run `prov init` first") from exc
        fields = {"name", "origin", "baseUrl"}
        if not isinstance(document, dict) or not fields <= set(document) <= fields | {"crlUrl"}:
            raise SettingsError(f"{path} must hold {sorted(fields)} and optionally crlUrl")
        if not all(isinstance(value, str) and value for value in document.values()):
            raise SettingsError(f"{path}: every field must be a non-empty string")
        base_url = document["baseUrl"].rstrip("/")
        return cls(document["name"], document["origin"], base_url, document.get("crlUrl"))
