"""Forgotten passwords: a short-lived, single-use link sent to the account's email.

Asking for a link answers the same whether or not the address has an
account, and the email goes out after the request has been answered
(``services/mail.py``), so neither the answer nor its timing tells who has an
account. At most ``MAX_OPEN_RESETS`` links are sent per account per lifetime,
so nobody can flood someone's inbox. Using a link sets the new password and
ends every session of the account.
"""

from __future__ import annotations

from coauthor.db.uow import UnitOfWork
from coauthor.domain.accounts import PasswordReset
from coauthor.domain.errors import Conflict, NotFound
from coauthor.domain.model import Person
from coauthor.ids import new_id
from coauthor.services.accounts.inputs import NewPassword
from coauthor.services.accounts.links import Site, digest, matches, new_secret
from coauthor.services.accounts.people import (
    check_password_strength,
    person_by_email,
    replace_password,
)
from coauthor.services.mail import Message

PURPOSE = "password-reset"
MAX_OPEN_RESETS = 3
LINK_NOT_VALID = "this password-reset link is not valid; ask for a new one"


def do_request_reset(uow: UnitOfWork, email: str, site: Site) -> None:
    """Email a reset link if ``email`` belongs to an active account; say nothing either way."""
    person = person_by_email(uow, email)
    if person is None or not person.active or not site.outbox.enabled:
        return
    now = uow.clock.now()
    recent = uow.find(
        PasswordReset, PasswordReset.created_at > now - site.reset_lifetime, person_id=person.id
    )
    if len(recent) >= MAX_OPEN_RESETS:
        return
    link = issue_reset(uow, person, site)
    minutes = int(site.reset_lifetime.total_seconds() // 60)
    body = (
        f"Someone asked to reset the password of your Coauthor account ({person.email}).\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n{link}\n\n"
        "It works once. If you did not ask for this, ignore this email: your password stays "
        "as it is.\n"
    )
    site.outbox.send_after_commit(uow, Message(person.email, "Reset your Coauthor password", body))


def issue_reset(uow: UnitOfWork, person: Person, site: Site) -> str:
    """A new reset for ``person`` and the link that opens it (the link is not stored)."""
    now, nonce = uow.clock.now(), new_secret()
    reset = PasswordReset(
        id=new_id("pr"),
        person_id=person.id,
        nonce_hash=digest(nonce),
        created_at=now,
        expires_at=now + site.reset_lifetime,
    )
    uow.add(reset)
    return site.link(f"/password-reset/{site.sign(PURPOSE, reset.id, nonce)}")


def open_reset(uow: UnitOfWork, site: Site, token: str) -> tuple[PasswordReset, Person]:
    """The reset the link opens and its person; NotFound or Conflict when it cannot be used."""
    parts = site.unsign(PURPOSE, token, 2)
    if parts is None:
        raise NotFound(LINK_NOT_VALID)
    reset = uow.get(PasswordReset, id=parts[0])
    if reset is None or not matches(parts[1], reset.nonce_hash):
        raise NotFound(LINK_NOT_VALID)
    person = uow.get(Person, id=reset.person_id)
    if person is None or not person.active or not reset.is_open(uow.clock.now()):
        raise Conflict("this password-reset link was used or has expired; ask for a new one")
    return reset, person


def do_reset_password(uow: UnitOfWork, site: Site, token: str, data: NewPassword) -> Person:
    """Set the new password; the link, and any other open one, stops working."""
    reset, person = open_reset(uow, site, token)
    check_password_strength(data.password)
    now = uow.clock.now()
    for other in uow.find(PasswordReset, person_id=person.id, used_at=None):
        other.used_at = now
    reset.used_at = now
    replace_password(uow, person, person, data.password, "reset")
    return person
