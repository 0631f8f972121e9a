"""The API documentation at ``/docs``, with Swagger UI served from this package's dependencies.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, so it is a blank page offline and loads
code from another site. Here the JavaScript and CSS (Swagger UI 5, which reads the OpenAPI 3.1
document FastAPI writes) come from the ``fastapi-offline`` package (the ``api`` extra; only its
static files are used) under ``/docs/assets/``; nothing is fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from local assets (the app is built with ``docs_url=None``)."""
    import fastapi_offline  # noqa: PLC0415 (the api extra)

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title}: API"

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/{ASSETS[0]}",
            swagger_css_url=f"{ASSETS_URL}/{ASSETS[1]}",
            swagger_favicon_url=f"{ASSETS_URL}/{ASSETS[2]}",
        )
