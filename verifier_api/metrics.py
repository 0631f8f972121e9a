"""Prometheus metrics, one registry per app (so several apps in one process never clash)."""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import Scope

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
        self._request_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
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

    def count_request(self, scope: Scope, status: int, seconds: float) -> None:
        """Count an HTTP request and its latency by route template (never by raw path), method
        and status.

        Every label comes from a fixed set (the app's route templates, :data:`METHODS`, the
        registered HTTP statuses, else ``other``/``unmatched``): nothing a client sends can add a
        series. Each combination's children are looked up once (the label sets are bounded).
        """
        labels = (_route_template(scope), method_label(scope), status_label(status))
        children = self._request_children.get(labels)
        if children is None:
            children = (self.requests.labels(*labels), self.latency.labels(labels[0]))
            self._request_children[labels] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


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
