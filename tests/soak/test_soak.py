"""The soak, bounded: 32 clients mixing sign and verify against a real server process.

A short run is part of ``make test``; the recorded two-minute runs (``RUN_SLOW=1``, or the command
in specs/reliability.md) also hold RSS growth under 20 % after the warm-up.
"""

from __future__ import annotations

import os

import pytest

from tests.soak.soak import SoakConfig, SoakReport, run_soak

QUICK_SECONDS = 6.0
QUICK_MAX_RSS_GROWTH_PERCENT = 50.0
FULL_SECONDS = 120.0
FULL_MAX_RSS_GROWTH_PERCENT = 20.0
CLIENTS = 32


def _assert_clean(report: SoakReport, max_growth: float) -> None:
    assert report.error_count == 0, report.errors
    assert report.signs > 0 and report.verifies > 0
    assert report.lost_entries == 0, report.errors
    assert report.log_size == report.signs
    assert report.rss_growth_percent < max_growth, report.rss_kib


def test_quick_soak_has_no_errors_no_lost_entries_and_bounded_memory() -> None:
    report = run_soak(SoakConfig(seconds=QUICK_SECONDS, clients=CLIENTS, sample_seconds=1.0))
    _assert_clean(report, QUICK_MAX_RSS_GROWTH_PERCENT)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_minute_soak_is_clean_and_memory_stays_flat(backend: str) -> None:
    if not os.environ.get("RUN_SLOW"):
        pytest.skip("a two-minute soak; set RUN_SLOW=1 to run it")
    report = run_soak(SoakConfig(seconds=FULL_SECONDS, clients=CLIENTS, backend=backend))
    _assert_clean(report, FULL_MAX_RSS_GROWTH_PERCENT)
