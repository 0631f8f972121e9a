"""The one pure-ASGI pass every HTTP request takes before routing (issue 14).

It counts the request in the metrics (:meth:`Metrics.count_request`) and holds its body to the cap
and, on the routes that take JSON, to strict JSON (:class:`verifier_api.limits.BodyGate`): one
middleware instead of one per concern. Requests to the form pages get their body refusals through
``form_pages`` (HTML instead of the API's JSON).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verifier_api.limits import BodyGate, route_path
from verifier_api.metrics import Metrics


class RequestGate:
    """Metrics, the body cap and strict JSON, in one pass.

    Args:
        app: The wrapped app.
        metrics: Where requests are counted.
        bodies: The body cap and strict JSON, wrapping ``app``.
        form_paths: The paths of the form pages.
        form_pages: Wraps ``bodies`` for the form pages (their refusals as HTML).
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        bodies: Callable[[ASGIApp], BodyGate],
        form_paths: frozenset[str],
        form_pages: Callable[[ASGIApp], ASGIApp],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.bodies = bodies(app)
        self.form_paths = form_paths
        self.pages = form_pages(self.bodies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        inner = self.pages if route_path(scope) in self.form_paths else self.bodies
        try:
            await inner(scope, receive, send_with_status)
        finally:
            self.metrics.count_request(scope, status, time.perf_counter() - start)
