"""The service's error tree: every error the service defines derives from :class:`ServiceError`.

A leaf module (no FastAPI, no database), so that storage (``crud``), settings and the HTTP layer can
all raise into one tree; the library's errors stay under :class:`provenance.ProvenanceError`, and
``errors.py`` turns both into ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors the service raises (the library raises ``ProvenanceError``)."""
