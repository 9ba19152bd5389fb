"""The mail module: SMTP URLs, and headers that a name with a line break cannot extend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coauthor.services.mail import Message, SmtpServer, compose


def test_smtp_urls_name_the_server_and_its_security() -> None:
    assert SmtpServer.from_url("smtp://127.0.0.1:2525") == SmtpServer("smtp", "127.0.0.1", 2525)
    secure = SmtpServer.from_url("smtps://bot%40example.org:p%3Ass@mail.example.org")
    assert (secure.port, secure.username, secure.password) == (465, "bot@example.org", "p:ss")
    assert SmtpServer.from_url("smtp+starttls://mail.example.org").port == 587
    with pytest.raises(ValueError, match="SMTP URL"):
        SmtpServer.from_url("https://mail.example.org")


def test_a_line_break_in_a_subject_adds_no_header() -> None:
    message = Message("nia@example.org", "Join Helios\r\nBcc: all@example.org", "Hello")
    email = compose(message, "Coauthor <coauthor@example.org>", datetime(2026, 3, 2, tzinfo=UTC))
    assert email["Subject"] == "Join Helios Bcc: all@example.org"
    assert email["Bcc"] is None
    assert email["Message-ID"].endswith("@example.org>")
    assert email.get_content().strip() == "Hello"
