"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), keeping what it receives.

``smtp_server`` (a fixture, registered in tests/conftest.py) starts one per
test; point ``COAUTHOR_SMTP_URL`` at ``smtp_server.url``. The app sends from
a thread of its own after the write commits, so ``wait_for`` polls for the
message instead of expecting it at once.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

LINK = re.compile(r"https?://\S+")
WAIT_SECONDS = 10.0


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self._collector = _Collector()
        self.port = _free_port()
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._collector.lock:
            return list(self._collector.messages)

    def wait_for(self, to: str, count: int = 1, timeout: float = WAIT_SECONDS) -> EmailMessage:
        """The ``count``-th message sent to ``to``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = [message for message in self.messages if message["To"] == to]
            if len(sent) >= count:
                return sent[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no email #{count} to {to} within {timeout}s: {self.messages}")

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def link_in(message: EmailMessage) -> str:
    """The first link in a message's text."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, f"no link in {body.get_content()!r}"
    return found.group(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
