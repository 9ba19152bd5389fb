"""Email: sent after the write that caused it commits, never before, never twice.

``Outbox.send_after_commit(uow, message)`` registers the delivery as an
after-commit step of the unit of work (``uow.after_commit``), so a write that
rolls back, or loses a race and runs again, sends nothing extra. The delivery
itself runs on a thread of its own (one, draining a queue): a page never waits for the mail server,
and how long a request takes does not tell whether an email went out (a
password reset asked for an unknown address sends none).

``COAUTHOR_SMTP_URL`` names the server: ``smtp://host:25`` (plain),
``smtp+starttls://user:password@host:587`` (STARTTLS required) or
``smtps://user:password@host:465`` (TLS from the start). Empty: no email is
sent, and the people who would get one are shown the link instead.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from coauthor.db.uow import UnitOfWork

log = logging.getLogger(__name__)
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 20
IDLE_SECONDS = 2.0
"""How long the delivery thread waits for more email before it ends."""
BATCH_SIZE = 100
"""Most emails sent over one connection."""


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://host:25, smtp+starttls:// or smtps://")
        return cls(
            parts.scheme,
            parts.hostname,
            parts.port or DEFAULT_PORTS[parts.scheme],
            unquote(parts.username or ""),
            unquote(parts.password or ""),
        )

    def connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS, context=context)
        connection = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        if self.scheme == "smtp+starttls":
            connection.starttls(context=ssl.create_default_context())
        return connection


def _one_line(text: str) -> str:
    """Header text on one line: a name with a line break in it cannot add headers."""
    return " ".join(text.split())


def compose(message: Message, sender: str, at: datetime) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = _one_line(message.to)
    email["Subject"] = _one_line(message.subject)
    email["Date"] = format_datetime(at)
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].partition("@")[2] or None)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    return email


class Outbox:
    """Sends email through the configured SMTP server, or nowhere when there is none.

    Deliveries go through one queue drained by one thread, which sends what
    has gathered over a single connection: a wave of pulse links to fifty
    members is one SMTP session, not fifty at once (which servers refuse).
    """

    def __init__(self, smtp_url: str, sender: str) -> None:
        self.server = SmtpServer.from_url(smtp_url) if smtp_url else None
        self.sender = sender
        self._queue: queue.Queue[EmailMessage] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.server is not None

    def send_after_commit(self, uow: UnitOfWork, message: Message) -> bool:
        """Send ``message`` once this write commits; False when no server is configured."""
        if self.server is None:
            return False
        email = compose(message, self.sender, uow.clock.now())
        uow.after_commit(lambda: self._dispatch(email))
        return True

    def _dispatch(self, email: EmailMessage) -> None:
        with self._lock:
            self._queue.put(email)
            if self._worker is None:
                self._worker = threading.Thread(target=self._drain, name="coauthor-mail")
                self._worker.daemon = True
                self._worker.start()

    def _next_batch(self) -> list[EmailMessage]:
        """What is queued, waiting a moment for more; empty (and the worker gone) when idle."""
        try:
            batch = [self._queue.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            with self._lock:
                if self._queue.empty():
                    self._worker = None
                    return []
            return self._next_batch()
        while len(batch) < BATCH_SIZE:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _drain(self) -> None:
        while batch := self._next_batch():
            try:
                self.deliver(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def deliver(self, emails: list[EmailMessage]) -> None:
        """Hand emails to the server over one connection; failures are logged (pages answered)."""
        assert self.server is not None
        try:
            with self.server.connect() as connection:
                if self.server.username:
                    connection.login(self.server.username, self.server.password)
                for email in emails:
                    self._send_one(connection, email)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("could not reach the mail server for %d email(s): %s", len(emails), exc)

    @staticmethod
    def _send_one(connection: smtplib.SMTP, email: EmailMessage) -> None:
        try:
            connection.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            log.error("the mail server refused %s for %r: %s", email["To"], email["Subject"], exc)

    def wait(self, timeout: float = TIMEOUT_SECONDS) -> None:
        """Wait for the deliveries under way (a CLI command about to exit, a test)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._queue.all_tasks_done.wait(remaining)
