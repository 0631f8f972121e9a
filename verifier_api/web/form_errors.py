"""Browsers posting the pages' forms get HTML error pages, never the API's JSON errors.

The body cap (``BodyLimitMiddleware``) answers before any route runs, with the API's JSON 413. For
the form routes this middleware, placed outside the cap, replaces that answer with an HTML page
that states the limit and links back to the form.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provenance import printable
from verifier_api.limits import route_path
from verifier_api.web.pages import render_page

FORM_PATHS = frozenset({"/verify", "/verify/upload", "/demo"})
TOO_LARGE = 413


def size_label(size: int) -> str:
    """``1 MiB``, ``512 KiB`` or ``900 bytes``: a cap as a person reads it."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor:
            amount = size / factor
            return f"{amount:g} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{size} bytes"


class FormErrorPages:
    """Replace a 413 answer to a form post with an HTML page stating the limit.

    Args:
        app: The wrapped app (the body cap inside it).
        max_bytes: The body cap to state.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope) not in FORM_PATHS:
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_page(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == TOO_LARGE:
                replaced = True
                await self._page(scope)(scope, receive, send)
                return
            if not (replaced and message["type"] == "http.response.body"):
                await send(message)

        await self.app(scope, receive, send_page)

    def _page(self, scope: Scope) -> ASGIApp:
        service = scope["app"].state.service
        context = {
            "publisher": printable(service.publisher.settings.name),
            "demo_enabled": scope["app"].state.web_settings.demo,
            "limit": size_label(self.max_bytes),
            "back": "/demo" if route_path(scope) == "/demo" else "/",
        }
        return render_page("too_large.html", context, TOO_LARGE)
