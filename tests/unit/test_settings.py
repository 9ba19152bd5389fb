"""Settings come from COAUTHOR_* variables (any case); values passed in win."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from coauthor.config import Settings


def test_variables_named_after_fields_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COAUTHOR_PORT", "8123")
    monkeypatch.setenv("coauthor_secure_cookies", "true")
    monkeypatch.setenv("Coauthor_Anonymity_Threshold", "7")
    monkeypatch.setenv("COAUTHOR_PULSE_COMMENT_THRESHOLD", "9")
    monkeypatch.setenv("COAUTHOR_NOT_A_SETTING", "ignored")
    settings = Settings()
    assert (settings.port, settings.secure_cookies, settings.anonymity_threshold) == (8123, True, 7)
    assert not hasattr(settings, "not_a_setting")


def test_values_passed_in_take_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COAUTHOR_PORT", "8123")
    assert Settings(port=9000).port == 9000
    monkeypatch.delenv("COAUTHOR_PORT")
    assert Settings().port == 8000


def test_a_bad_variable_is_refused_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COAUTHOR_SESSION_IDLE_SECONDS", "soon")
    with pytest.raises(ValidationError) as refused:
        Settings()
    [error] = refused.value.errors()
    assert error["loc"] == ("session_idle_seconds",)
    monkeypatch.setenv("COAUTHOR_SESSION_IDLE_SECONDS", "59")
    with pytest.raises(ValidationError, match="greater than or equal to 60"):
        Settings()
