"""HTML rendering with autoescaping, the pages' security headers, and the local static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

WEB_DIR = Path(__file__).resolve().parent
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
STATIC_FILES = {
    "site.css": "text/css; charset=utf-8",
    "copy.js": "text/javascript; charset=utf-8",
}
_templates = Environment(
    loader=FileSystemLoader(WEB_DIR / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def secured(response: Response) -> Response:
    """``response`` with the pages' security headers set."""
    response.headers.update(SECURITY_HEADERS)
    return response


def render_page(template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render ``template`` (autoescaped) as an uncached HTML page with the security headers."""
    html = _templates.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
    return secured(response)


def static_file(name: str) -> Response | None:
    """One of the listed static files with its media type, or ``None`` for any other name."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        return None
    body = (WEB_DIR / "static" / name).read_bytes()
    headers = {"Cache-Control": "public, max-age=3600"}
    return secured(Response(body, media_type=media_type, headers=headers))
