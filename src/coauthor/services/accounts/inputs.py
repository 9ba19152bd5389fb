"""What people send about accounts: creating one, setting it up, their profile."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from coauthor.services.inputs import Email, Input, Name


class PersonInput(Input):
    email: Email
    name: Name
    is_admin: bool = False


@functools.cache
def time_zones() -> list[str]:
    """Every IANA zone name, sorted, as the profile page offers them."""
    return sorted(zoneinfo.available_timezones() | {"UTC"})


def _known_zone(name: str) -> str:
    if name not in time_zones():
        raise ValueError("not a time zone we know (pick one such as Europe/Berlin)")
    return name


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_known_zone)]
Password = Annotated[str, Field(max_length=1000)]


class NewPassword(Input):
    """A password chosen twice, so a typo does not lock its owner out."""

    password: Password
    password_again: Password = ""

    @model_validator(mode="after")
    def _same_twice(self) -> NewPassword:
        if self.password_again != self.password:
            raise ValueError("password_again: does not match the password")
        return self


class AccountSetup(NewPassword):
    """What someone new sends when they accept an invitation."""

    name: Name


class ProfileInput(Input):
    name: Name
    time_zone: TimeZone = "UTC"
