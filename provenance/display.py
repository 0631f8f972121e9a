"""Showing untrusted text to a person: every code point visible, nothing hidden or reordered."""

from __future__ import annotations

import unicodedata

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control, format (zero-width, bidi overrides), surrogate (no UTF-8 form: a file name that is not
UTF-8, an escaped ``\\ud800``) and line/paragraph separator characters."""


def printable(value: str) -> str:
    """``value`` with control, format, surrogate and separator characters shown as ``\\uXXXX``.

    What a bundle, a certificate or a document says is shown through this everywhere (CLI, web
    page), so a name cannot hide characters, reorder text with bidi controls, or inject terminal
    escapes.
    """
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in HIDDEN_CATEGORIES else c for c in value
    )
