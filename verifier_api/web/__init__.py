"""The verification web page (``/``) and the demo review site (``/demo``); see specs/web-v1.md."""

from verifier_api.web.routes import WebSettings, install_web

__all__ = ["WebSettings", "install_web"]
