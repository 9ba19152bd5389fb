"""What people send to create an account."""

from __future__ import annotations

from coauthor.services.inputs import Email, Input, Name


class PersonInput(Input):
    email: Email
    name: Name
    is_admin: bool = False
