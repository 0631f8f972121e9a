"""Lazy faces: a package's public names load from their defining modules on first use (PEP 562).

A face keeps ``import provenance`` (or ``import provenance.tlog``) cheap: nothing behind a name is
imported until the name is used, so the CLI does not pay for SQLAlchemy or the verifier to print
its help, and a subpackage's face never creates an import cycle with its own modules.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package`` that loads ``name`` from ``names[name]``."""

    def load(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return load
