"""FastAPI's native OpenTelemetry hooks: off unless the process is set up for OpenTelemetry."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI

from verifier_api.app import fastapi_telemetry

NATIVE = "telemetry" in inspect.signature(FastAPI.__init__).parameters
OFF = {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


@pytest.mark.skipif(not NATIVE, reason="this FastAPI has no native telemetry")
def test_telemetry_is_off_without_opentelemetry_settings() -> None:
    assert fastapi_telemetry({"PATH": "/usr/bin", "PROVENANCE_HOME": "/srv/home"}) == OFF


@pytest.mark.skipif(not NATIVE, reason="this FastAPI has no native telemetry")
@pytest.mark.parametrize(
    "name", ["OTEL_SERVICE_NAME", "OTEL_TRACES_EXPORTER", "FASTAPI_OTEL_AUTO_CONFIGURE"]
)
def test_telemetry_keeps_fastapi_defaults_with_an_opentelemetry_setting(name: str) -> None:
    assert fastapi_telemetry({"PATH": "/usr/bin", name: "x"}) == {}
