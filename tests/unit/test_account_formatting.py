"""Times in the reader's zone, devices as people recognise them, and the settings' checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from coauthor.config import Settings
from coauthor.reports.formatting import describe_browser, format_datetime
from coauthor.services.accounts.inputs import AccountSetup, ProfileInput

WINTER = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (WINTER, "UTC", "2 Mar 2026, 09:00 UTC"),
        (WINTER, "Europe/Berlin", "2 Mar 2026, 10:00 CET"),
        (SUMMER, "Europe/Berlin", "2 Jul 2026, 01:30 CEST"),
        (SUMMER, "America/New_York", "1 Jul 2026, 19:30 EDT"),
        (WINTER, "Asia/Kolkata", "2 Mar 2026, 14:30 IST"),
        (WINTER, "No/Such_Zone", "2 Mar 2026, 09:00 UTC"),
    ],
)
def test_times_read_in_the_readers_zone(moment: datetime, zone: str, shown: str) -> None:
    assert format_datetime(moment, zone) == shown


@pytest.mark.parametrize(
    ("agent", "described"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        ("python-httpx/0.28", "python-httpx/0.28"),
        ("", "Unknown browser"),
    ],
)
def test_devices_are_named_as_people_know_them(agent: str, described: str) -> None:
    assert describe_browser(agent) == described


def test_a_profile_needs_a_known_zone_and_passwords_must_match() -> None:
    assert ProfileInput(name="Ann", time_zone="Europe/Berlin").time_zone == "Europe/Berlin"
    with pytest.raises(ValidationError, match="not a time zone we know"):
        ProfileInput(name="Ann", time_zone="Europe/Atlantis")
    with pytest.raises(ValidationError, match="password_again: does not match"):
        AccountSetup(name="Ann", password="a long password", password_again="a long pasword")


def test_settings_refuse_bad_proxies_and_mail_urls() -> None:
    assert Settings(trusted_proxies="10.0.0.1, 192.168.0.0/16").proxy_networks()[1].prefixlen == 16
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(trusted_proxies="proxy.example")
    with pytest.raises(ValidationError, match="smtp_url must start with"):
        Settings(smtp_url="http://mail.example")
    assert Settings(public_url="https://coauthor.example/").site_url() == "https://coauthor.example"
    assert Settings(host="0.0.0.0", port=8080).site_url() == "http://0.0.0.0:8080"


def test_passwords_from_12_to_128_characters_of_any_kind() -> None:
    """ASVS 2.1.1, 2.1.2, 2.1.4, 2.1.9: length is the only rule."""
    from coauthor.domain.errors import ValidationFailed
    from coauthor.services.accounts.people import check_password_strength

    for accepted in ("twelve chars", "x" * 64, "é" * 128, "🔑 ключ 鍵 clé!!"):
        check_password_strength(accepted)
    for refused, reason in (("eleven char", "at least 12"), ("x" * 129, "at most 128")):
        with pytest.raises(ValidationFailed, match=reason):
            check_password_strength(refused)
