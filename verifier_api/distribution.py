"""Trust-root distribution through the home's TUF repository (specs/trust-distribution-v1.md).

The service signs only with the online key (targets, snapshot, timestamp). Whenever a client asks
for ``timestamp.json`` (and at start), the repository is brought up to date: a trust root that
changed (a new CRL, a rotation) becomes a new targets version, and a timestamp or snapshot close
to expiry is re-signed, so a running service never serves expired online metadata.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from provenance import SigningKey
from provenance.trust_repository import TrustRepository, TrustRepositoryError
from verifier_api.publisher import TUF_DIR
from verifier_api.settings import SettingsError
from verifier_api.stored_authority import StoredAuthority


class TrustDistribution:
    """The home's TUF repository and the online key the service signs it with.

    Args:
        repository: The repository in ``<home>/tuf``.
        online_key: The targets, snapshot and timestamp key.
        authority: Where the current trust root comes from.
    """

    def __init__(
        self, repository: TrustRepository, online_key: SigningKey, authority: StoredAuthority
    ) -> None:
        self.repository = repository
        self._online_key = online_key
        self._authority = authority

    def refresh(self, now: datetime) -> None:
        """Publish the current trust root and re-sign what is close to expiry.

        Raises:
            TrustRepositoryError: The repository cannot be read or written.
        """
        trust, _ = self._authority.trust_root()
        self.repository.publish(trust.to_json(), self._online_key, now)


def open_distribution(
    home: Path, passphrase: bytes, authority: StoredAuthority, now: datetime
) -> TrustDistribution | None:
    """The home's distribution, published up to date; ``None`` for a home without a repository.

    Raises:
        SettingsError: The repository or its online key is unusable.
    """
    directory = home / TUF_DIR
    if not directory.exists():
        return None
    repository = TrustRepository(directory)
    try:
        distribution = TrustDistribution(
            repository, repository.load_online_key(passphrase), authority
        )
        distribution.refresh(now)
    except TrustRepositoryError as exc:
        raise SettingsError(str(exc)) from exc
    return distribution
