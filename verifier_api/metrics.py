"""Prometheus metrics, one registry per app (so several apps in one process never clash)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http import HTTPStatus

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The methods counted by name; any other (clients may send any token) is counted as "other"."""
STATUSES = frozenset(str(status.value) for status in HTTPStatus)
OTHER = "other"


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class Metrics:
    """The service's metrics."""

    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "provenance_http_requests_total",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "provenance_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            registry=self.registry,
        )
        self.verifications = Counter(
            "provenance_verifications_total",
            "Verifications by outcome.",
            ["verified"],
            registry=self.registry,
        )
        self.signatures = Counter(
            "provenance_signatures_total", "Bundles signed and logged.", registry=self.registry
        )
        self.log_batches = Histogram(
            "provenance_log_batch_entries",
            "Entries per committed log batch.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts requests and their latency by route template (never by raw path), method and status.

    Every label comes from a fixed set (the app's route templates, :data:`METHODS`, the registered
    HTTP statuses, else ``other``/``unmatched``): nothing a client sends can add a series.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = _route_template(scope)
            self.metrics.requests.labels(route, method_label(scope), status_label(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)


def method_label(scope: Scope) -> str:
    """The request's method if it is one of :data:`METHODS`, else ``other``."""
    method = str(scope.get("method", ""))
    return method if method in METHODS else OTHER


def status_label(status: int) -> str:
    """The status code if HTTP registers it, else ``other``."""
    text = str(status)
    return text if text in STATUSES else OTHER


def _route_template(scope: Scope) -> str:
    """The matched route's path template (the router records it in the scope), or "unmatched"."""
    return str(getattr(scope.get("route"), "path", "unmatched"))
