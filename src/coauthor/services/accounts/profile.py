"""One's own account: name, time zone and password."""

from __future__ import annotations

from coauthor import permissions
from coauthor.db.uow import UnitOfWork
from coauthor.domain.errors import CoauthorError
from coauthor.domain.model import Person
from coauthor.services import eventlog
from coauthor.services.accounts.inputs import NewPassword, ProfileInput
from coauthor.services.accounts.login import LoginLimits, check_password_limited
from coauthor.services.accounts.people import check_password_strength, replace_password


def do_update_profile(uow: UnitOfWork, actor: Person | None, data: ProfileInput) -> Person:
    person = permissions.require_signed_in(actor)
    person.name, person.time_zone = data.name, data.time_zone
    eventlog.append(
        uow,
        eventlog.SITE_CHAIN,
        person,
        "person.updated",
        {"id": person.id, "name": person.name, "time_zone": person.time_zone},
    )
    return person


def do_change_password(
    uow: UnitOfWork,
    actor: Person | None,
    current: str,
    data: NewPassword,
    address: str,
    limits: LoginLimits,
) -> CoauthorError | None:
    """Change one's password, given the current one; every session of the person ends.

    The current password is checked under the same limits as signing in (a
    borrowed session cannot be used to guess it), and a wrong one is returned,
    not raised, so that the failure's count commits.
    """
    person = permissions.require_signed_in(actor)
    check_password_strength(data.password)
    refusal = check_password_limited(
        uow, person.email, person, current, address, limits, "current_password", "is not right"
    )
    if refusal is not None:
        return refusal
    replace_password(uow, person, person, data.password, "changed")
    return None
