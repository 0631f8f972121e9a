"""Identities: the account URIs and email addresses certificates carry in their SANs.

An identity is an ``https`` URI or an email address, NFC-normalized, ASCII, with no whitespace and
no control or format characters (zero-width, bidi overrides), so that two identities that look
alike are equal strings. The subject's common name is never an identity.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from cryptography import x509

from provenance.errors import AuthorityError
from provenance.identity.profile import IDENTITY_LIMITS

_REFUSED_CATEGORIES = {"Cc": "control", "Cf": "format"}
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+")
_ASCII_REFUSED = re.compile("[\x00-\x20\x7f]")
"""The ASCII characters an identity may not hold: controls (Cc), white space and space."""
_DNS_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def check_identity_text(text: str) -> None:
    """Refuse identity text that could hide or fake characters.

    Raises:
        AuthorityError: Empty, too long, not NFC, holding control/format characters or
            whitespace, or not ASCII.
    """
    if not text or len(text) > IDENTITY_LIMITS.max_identity_chars:
        raise AuthorityError(
            f"an identity has 1 to {IDENTITY_LIMITS.max_identity_chars} characters, found "
            f"{len(text)}"
        )
    if text.isascii() and _ASCII_REFUSED.search(text) is None:
        return  # ASCII is NFC; its only control, format and space characters are those
    if not unicodedata.is_normalized("NFC", text):
        raise AuthorityError(f"identity {text!r} is not NFC-normalized")
    for char in text:
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind:
            raise AuthorityError(f"identity {text!r} holds {kind} character U+{ord(char):04X}")
        if char.isspace():
            raise AuthorityError(f"identity {text!r} holds whitespace U+{ord(char):04X}")
    if not text.isascii():
        raise AuthorityError(
            f"identity {text!r} is not ASCII; use punycode hosts and percent-encoded paths"
        )


def parse_identity(text: str) -> x509.GeneralName:
    """Parse an identity into the SAN entry that carries it.

    Args:
        text: An ``https`` URI (``https://reviews.example/u/8841``) or an email address.

    Returns:
        A ``UniformResourceIdentifier`` or an ``RFC822Name``.

    Raises:
        AuthorityError: The text breaks a rule of :func:`check_identity_text` or is neither an
            https URI with a lowercase host nor an email address with a lowercase domain.
    """
    check_identity_text(text)
    if text.startswith("https://"):
        _check_https_uri(text)
        return x509.UniformResourceIdentifier(text)
    if "@" in text and "://" not in text:
        _check_email(text)
        return x509.RFC822Name(text)
    raise AuthorityError(f"identity {text!r} is neither an https URI nor an email address")


def identity_of(name: x509.GeneralName) -> str | None:
    """The identity a SAN entry carries: URIs and emails only, ``None`` for anything else."""
    if isinstance(name, x509.UniformResourceIdentifier | x509.RFC822Name):
        return name.value
    return None


def _check_https_uri(text: str) -> None:
    parts = urlsplit(text)
    host, _, port = parts.netloc.partition(":")
    if "@" in parts.netloc:
        raise AuthorityError(f"identity URI {text!r} must not carry user information")
    if parts.fragment or text.endswith("#"):
        raise AuthorityError(f"identity URI {text!r} must not carry a fragment")
    if not _DNS_NAME.fullmatch(host) or (port and not port.isdigit()):
        raise AuthorityError(f"identity URI {text!r} needs a lowercase DNS host name")


def _check_email(text: str) -> None:
    local, _, domain = text.partition("@")
    if not _EMAIL_LOCAL.fullmatch(local) or not _DNS_NAME.fullmatch(domain):
        raise AuthorityError(
            f"identity {text!r} is not an email address with a lowercase domain (local@host.example)"
        )
