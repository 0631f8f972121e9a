"""Provenance Toolkit: sign content with attested identities and verify it offline."""

__version__ = "0.1.0"
