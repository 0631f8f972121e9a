"""A publisher home's public settings: the optional CRL distribution point (``crlUrl``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier_api.publisher import home_settings
from verifier_api.settings import HOME_SETTINGS_FILE, HomeSettings, SettingsError


def _round_trip(settings: HomeSettings, home: Path) -> HomeSettings:
    home.mkdir()
    (home / HOME_SETTINGS_FILE).write_bytes(settings.to_json())
    return HomeSettings.read(home)


def test_crl_location_defaults_to_the_served_crl_under_the_base_url(tmp_path: Path) -> None:
    settings = home_settings("Reviews Example", None, "https://reviews.example")
    assert settings.crl_location == "https://reviews.example/v1/crl"
    assert "crlUrl" not in json.loads(settings.to_json())
    assert _round_trip(settings, tmp_path / "home") == settings


def test_a_plain_http_crl_url_is_kept_and_read_back(tmp_path: Path) -> None:
    url = "http://crl.reviews.example/v1/crl"
    settings = home_settings("Reviews Example", None, "https://reviews.example", url)
    assert settings.crl_location == url
    assert _round_trip(settings, tmp_path / "home").crl_location == url


@pytest.mark.parametrize("url", ["ftp://crl.example/x", "http:///no-host", "http://a b/crl"])
def test_a_crl_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="a CRL distribution point is an http"):
        home_settings("Reviews Example", None, "https://reviews.example", url)


def test_settings_with_an_unknown_field_are_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    document = {"name": "n", "origin": "o", "baseUrl": "https://x.example", "extra": "y"}
    (home / HOME_SETTINGS_FILE).write_text(json.dumps(document))
    with pytest.raises(SettingsError, match="optionally crlUrl"):
        HomeSettings.read(home)
