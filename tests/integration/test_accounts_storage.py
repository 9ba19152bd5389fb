"""Accounts on SQLite and PostgreSQL: sessions, sign-in limits, invitations, resets, mail.

Each test runs on both databases (the ``database_url`` fixture); mail goes to
a real SMTP server started by the harness (``smtp_server``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from coauthor.clock import FixedClock
from coauthor.config import Settings
from coauthor.db.tables import login_failures
from coauthor.db.uow import UnitOfWork
from coauthor.domain import model as m
from coauthor.domain.accounts import (
    Invitation,
    InvitationStatus,
    PasswordReset,
    SessionEnd,
    SignInSession,
)
from coauthor.domain.errors import Conflict, NotFound, TooManyAttempts, ValidationFailed
from coauthor.runtime import Runtime, build_runtime
from coauthor.services.accounts import admin, invitations, people, resets, sessions
from coauthor.services.accounts.inputs import AccountSetup, NewPassword, PersonInput
from coauthor.services.accounts.links import digest
from coauthor.services.accounts.login import (
    LoginLimits,
    Verdict,
    check_before_write,
    do_sign_in,
)
from coauthor.services.accounts.profile import do_change_password
from coauthor.services.mail import Message
from coauthor.services.mechanics import alliances
from coauthor.services.mechanics.inputs import AllianceCreate, MemberInput
from tests.smtp_server import SmtpServer, link_in

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
RULES = sessions.SessionRules(lifetime=timedelta(hours=8), idle=timedelta(minutes=30))
LIMITS = LoginLimits(per_account=3, per_address=5, window_seconds=300)
HERE = sessions.Client("192.0.2.1", "pytest")
ACCOUNT = AccountSetup(
    name="Nia New", password="a long new password", password_again="a long new password"
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def accounts_runtime(
    database_url: str, clock: FixedClock, smtp_server: SmtpServer, tmp_path
) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    settings = Settings(
        database_url=database_url,
        secret_key="integration-accounts",
        smtp_url=smtp_server.url,
        public_url="https://coauthor.example.org",
    )
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    runtime.site.outbox.wait()
    runtime.close()


@dataclass
class Site:
    runtime: Runtime
    ann: m.Person
    alliance_id: str
    partner_id: str


def make_person(
    uow: UnitOfWork, email: str, password: str | None = PASSWORD, is_admin: bool = False
) -> m.Person:
    data = PersonInput(email=email, name=email.split("@")[0].title(), is_admin=is_admin)
    return people.do_create_person(uow, None, data, password, bootstrap=True)


@pytest.fixture
def site(accounts_runtime: Runtime) -> Site:
    with accounts_runtime.uow() as uow:
        ann = make_person(uow, "ann@nordwerk.example")
        data = AllianceCreate(name="Helios", kind="joint_venture", organization_name="Nordwerk")
        alliance = alliances.do_create_alliance(uow, ann, data)
        [partner] = uow.find(m.Partner, alliance_id=alliance.id)
        uow.session.commit()
        return Site(accounts_runtime, ann, alliance.id, partner.id)


def sign_in(uow: UnitOfWork, email: str, password: str = PASSWORD, address: str = "192.0.2.1"):  # type: ignore[no-untyped-def]
    return uow.write(do_sign_in, email, password, sessions.Client(address), LIMITS, RULES)


def live(uow: UnitOfWork, secret: str) -> bool:
    return sessions.live_session(uow, secret, RULES) is not None


def test_a_session_lives_until_signed_out_idle_or_old(site: Site, clock: FixedClock) -> None:
    with site.runtime.uow() as uow:
        first = sign_in(uow, "ann@nordwerk.example")
        assert live(uow, first.session_secret)
        stored = uow.get(SignInSession, id=first.session_id)
        assert stored is not None and stored.secret_hash == digest(first.session_secret)
        uow.write(sessions.do_end_session, site.ann, first.session_id)
        assert not live(uow, first.session_secret)
        assert uow.get(SignInSession, id=first.session_id).ended_because == SessionEnd.SIGNED_OUT

        idle = sign_in(uow, "ann@nordwerk.example")
        clock.advance(RULES.idle)
        assert not live(uow, idle.session_secret)

        old = sign_in(uow, "ann@nordwerk.example")
        for _ in range(17):
            clock.advance(timedelta(minutes=29))
            uow.write(sessions.do_touch_session, old.session_id)
        assert not live(uow, old.session_secret), "8 hours after sign-in, however busy"


def test_a_password_change_and_a_deactivation_end_every_session(site: Site) -> None:
    with site.runtime.uow() as uow:
        root = make_person(uow, "root@site.example", is_admin=True)
        uow.session.commit()
        secrets = [sign_in(uow, "ann@nordwerk.example").session_secret for _ in range(2)]
        ann = people.person_by_email(uow, "ann@nordwerk.example")
        data = NewPassword(password="another long password", password_again="another long password")
        refusal = uow.write(do_change_password, ann, PASSWORD, data, "192.0.2.1", LIMITS)
        assert refusal is None
        assert not any(live(uow, secret) for secret in secrets)

        again = sign_in(uow, "ann@nordwerk.example", "another long password")
        uow.write(admin.do_deactivate, root, ann.id)
        assert not live(uow, again.session_secret)
        refused = sign_in(uow, "ann@nordwerk.example", "another long password")
        assert refused.refusal is not None and "deactivated" in refused.refusal.detail
        uow.write(admin.do_reactivate, root, ann.id)
        assert sign_in(uow, "ann@nordwerk.example", "another long password").refusal is None


def test_sign_out_everywhere_keeps_the_asking_session(site: Site) -> None:
    with site.runtime.uow() as uow:
        keep, *others = [sign_in(uow, "ann@nordwerk.example") for _ in range(3)]
        ended = uow.write(sessions.do_sign_out_everywhere, site.ann, keep.session_id)
        assert ended == 2
        assert live(uow, keep.session_secret)
        assert not any(live(uow, other.session_secret) for other in others)
        assert [s.id for s in sessions.my_sessions(uow, site.ann, RULES)] == [keep.session_id]


def test_failures_are_counted_per_account_and_per_address(site: Site, clock: FixedClock) -> None:
    with site.runtime.uow() as uow:
        for index in range(LIMITS.per_account):
            attempt = sign_in(uow, "ann@nordwerk.example", "wrong!", f"198.51.100.{index}")
            assert isinstance(attempt.refusal, ValidationFailed)
        blocked = sign_in(uow, "ann@nordwerk.example", PASSWORD, "198.51.100.99")
        assert isinstance(blocked.refusal, TooManyAttempts)
        clock.advance(timedelta(seconds=LIMITS.window_seconds + 1))
        assert sign_in(uow, "ann@nordwerk.example", PASSWORD, "198.51.100.99").refusal is None
        keys = set(uow.session.scalars(sa.select(login_failures.c.key)))
        assert not any(key.startswith("account:") for key in keys), "a success clears the account"
        sign_in(uow, "ann@nordwerk.example", "wrong!", "203.0.113.1")
        keys = set(uow.session.scalars(sa.select(login_failures.c.key)))
        assert keys == {"account:ann@nordwerk.example", "address:203.0.113.1"}, (
            "a failure prunes those older than the window"
        )


def test_an_invitation_becomes_a_member_only_when_accepted(
    site: Site, smtp_server: SmtpServer
) -> None:
    runtime = site.runtime
    with runtime.uow() as uow:
        invite = MemberInput(email="Nia@Example.org", partner_id=site.partner_id, role="sponsor")
        sent = uow.write(invitations.do_invite, site.ann, site.alliance_id, invite, runtime.site)
        assert sent.emailed
        stored = uow.get(Invitation, alliance_id=site.alliance_id, id=sent.invitation.id)
        assert stored.email == "nia@example.org"
        assert people.person_by_email(uow, "nia@example.org") is None, "no account yet"
        token = sent.link.rsplit("/", 1)[1]
        assert stored.nonce_hash not in token and len(stored.nonce_hash) == 64
        assert link_in(smtp_server.wait_for("nia@example.org")) == sent.link

        nia = uow.write(invitations.do_accept_as_new, runtime.site, token, ACCOUNT)
        member = uow.find_one(m.Member, alliance_id=site.alliance_id, person_id=nia.id)
        assert member is not None and member.role == m.Role.SPONSOR
        assert people.password_matches(nia.password_hash, ACCOUNT.password)
        assert stored.status == InvitationStatus.ACCEPTED
        with pytest.raises(Conflict):
            uow.write(invitations.do_accept_as_new, runtime.site, token, ACCOUNT)


def tampered(token: str) -> str:
    """The token with one character of its signature changed (not the last one, whose
    low bits base64 may ignore)."""
    index = len(token) - 10
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def test_a_bad_or_expired_link_opens_nothing(site: Site, clock: FixedClock) -> None:
    runtime = site.runtime
    with runtime.uow() as uow:
        invite = MemberInput(email="nia@example.org", partner_id=site.partner_id)
        sent = uow.write(invitations.do_invite, site.ann, site.alliance_id, invite, runtime.site)
        token = sent.link.rsplit("/", 1)[1]
        with pytest.raises(NotFound):
            invitations.offer(uow, runtime.site, tampered(token))
        clock.advance(runtime.site.invitation_lifetime)
        with pytest.raises(Conflict):
            uow.write(invitations.do_decline, runtime.site, token)


def test_mail_goes_only_after_the_write_commits(
    accounts_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    outbox = accounts_runtime.site.outbox

    def send_then_fail(uow: UnitOfWork) -> None:
        outbox.send_after_commit(uow, Message("rolled@example.org", "Never", "never sent"))
        raise ValidationFailed.one("x", "refused after queueing mail")

    def send(uow: UnitOfWork) -> None:
        outbox.send_after_commit(uow, Message("kept@example.org", "Kept", "sent once"))

    with accounts_runtime.uow() as uow:
        with pytest.raises(ValidationFailed):
            uow.write(send_then_fail)
        uow.write(send)
    smtp_server.wait_for("kept@example.org")
    outbox.wait()
    assert [message["To"] for message in smtp_server.messages] == ["kept@example.org"]


def test_a_reset_link_sets_the_password_once(site: Site, smtp_server: SmtpServer) -> None:
    runtime = site.runtime
    with runtime.uow() as uow:
        before = sign_in(uow, "ann@nordwerk.example")
        uow.write(resets.do_request_reset, "ann@nordwerk.example", runtime.site)
        uow.write(resets.do_request_reset, "nobody@nordwerk.example", runtime.site)
        token = link_in(smtp_server.wait_for("ann@nordwerk.example")).rsplit("/", 1)[1]
        data = NewPassword(password="a reset password!", password_again="a reset password!")
        uow.write(resets.do_reset_password, runtime.site, token, data)
        assert not live(uow, before.session_secret)
        assert sign_in(uow, "ann@nordwerk.example", "a reset password!").refusal is None
        with pytest.raises(Conflict):
            uow.write(resets.do_reset_password, runtime.site, token, data)
        assert len(uow.find(PasswordReset)) == 1, "no reset for an unknown address"


def test_people_from_before_0003_get_utc_and_stay_active(database_url: str) -> None:
    from alembic import command

    from coauthor.db import migrate
    from coauthor.db.engine import make_engine

    config = migrate.alembic_config(database_url)
    command.upgrade(config, "0002")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO people (id, email, name, password_hash, is_admin, created_at) "
                "VALUES ('pe_old', 'old@example.org', 'Old', '!', false, '2026-01-01 00:00:00')"
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT time_zone, deactivated_at FROM people WHERE id = 'pe_old'"
            ).one()
        assert tuple(row) == ("UTC", None)
    finally:
        engine.dispose()


def test_signing_in_forgets_the_persons_long_dead_sessions(site: Site, clock: FixedClock) -> None:
    with site.runtime.uow() as uow:
        old = sign_in(uow, "ann@nordwerk.example")
        clock.advance(RULES.lifetime * 2 + timedelta(seconds=1))
        new = sign_in(uow, "ann@nordwerk.example")
        kept = {session.id for session in uow.find(SignInSession)}
        assert kept == {new.session_id}, f"{old.session_id} was expired for a whole lifetime"


def test_the_write_uses_the_verdict_read_before_it_only_for_the_same_stored_hash(
    site: Site,
) -> None:
    """argon2 runs before the write (check_before_write); the write trusts that verdict only
    while the stored hash is the one checked, and counts the limits again itself."""
    email = site.ann.email
    with site.runtime.uow() as uow:
        verdict = check_before_write(uow, email, PASSWORD, "192.0.2.1", LIMITS)
        assert verdict is not None and verdict.matched
        signed = uow.write(do_sign_in, email, "not the password", HERE, LIMITS, RULES, verdict)
        assert signed.person is not None, "the verdict stood for the stored hash"
        stale = Verdict("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$c3RhbGU", True)
        refused = uow.write(do_sign_in, email, "not the password", HERE, LIMITS, RULES, stale)
        assert refused.person is None, "another hash: the write checked the password itself"
        for _ in range(LIMITS.per_account):
            sign_in(uow, email, "wrong guess")
        assert check_before_write(uow, email, PASSWORD, "192.0.2.1", LIMITS) is None
        assert isinstance(sign_in(uow, email).refusal, TooManyAttempts)
