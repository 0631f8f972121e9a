"""Browser fixtures: Debian's Chromium driven by Playwright against a real server process.

The tests skip with a reason when ``/usr/bin/chromium`` or Playwright is missing, except in CI
(``CI`` set), where they fail: ``.ci/run`` installs Chromium. A failing test leaves screenshots of
its pages in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.api.support import make_home, server_process
from verifier_api import crud
from verifier_api.db import make_engine
from verifier_api.migrations import upgrade_database
from verifier_api.scopes import Scope

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PageFactory = Callable[..., "Page"]


@dataclass(frozen=True)
class Server:
    """A running service with the demo on, and API keys with scopes ``sign``, ``admin`` and
    ``log``."""

    base_url: str
    sign_key: str
    admin_key: str
    home: Path
    log_key: str


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium; skipped when absent outside CI, a failure in CI."""
    missing = _missing_browser()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need Chromium and Playwright in CI: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service on a free loopback port, a fresh home, the demo site on."""
    home = make_home(tmp_path_factory.mktemp("browser") / "home")
    database_url = f"sqlite:///{home / 'provenance.db'}"
    engine = make_engine(database_url)
    upgrade_database(engine)
    _, key = crud.create_api_key(engine, "browser", Scope.SIGN, now=datetime.now(UTC))
    _, admin = crud.create_api_key(engine, "browser-admin", Scope.ADMIN, now=datetime.now(UTC))
    _, log = crud.create_api_key(engine, "browser-author", Scope.LOG, now=datetime.now(UTC))
    engine.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_DEMO", "1")
        with server_process(home, database_url) as base_url:
            yield Server(base_url, key, admin, home, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[PageFactory]:
    """Open pages in fresh contexts (``new_page(**context_options)``); screenshots on failure."""
    pages: list[Page] = []

    def open_page(**options: Any) -> Page:
        page = browser.new_context(**options).new_page()
        page.set_default_timeout(10_000)
        pages.append(page)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for number, page in enumerate(pages):
            page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)
    for page in pages:
        page.context.close()
