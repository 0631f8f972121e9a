"""Fixtures of the identity tests: a real authority created 30 days before NOW."""

from __future__ import annotations

import pytest

from provenance.identity import CertificateAuthority, create_authority
from provenance.keys import KeyType, SigningKey, generate_key
from tests.unit.identity.factory import AUTHORITY_CREATED


@pytest.fixture
def authority() -> CertificateAuthority:
    """An in-memory authority named "Reviews Example"."""
    return create_authority("Reviews Example", now=AUTHORITY_CREATED).authority


@pytest.fixture
def author_key() -> SigningKey:
    """An author's P-256 key."""
    return generate_key(KeyType.P256)
