"""The imperative mapping of the domain's dataclasses onto the tables.

Kept apart from db/tables.py so that code needing only the tables (the CLI's
quick reads, migrations) does not import the ORM.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from coauthor.db.tables import (
    agreements,
    alliances,
    api_tokens,
    attendance,
    body_seats,
    calendar_feeds,
    charter_clauses,
    commitment_parties,
    commitments,
    contributions,
    decision_rights,
    declaration_positions,
    declarations,
    deliberations,
    events,
    governance_bodies,
    invitations,
    meetings,
    members,
    metadata,
    obligation_assignments,
    obligations,
    organizations,
    participants,
    partner_notes,
    partners,
    password_resets,
    people,
    pulse_comments,
    pulse_custom_items,
    pulse_invitations,
    pulse_responses,
    pulse_wave_items,
    pulse_waves,
    risk_shares,
    risks,
    sessions,
    speech_acts,
    statements,
    votes,
)
from coauthor.domain import accounts as acc
from coauthor.domain import commitments as c
from coauthor.domain import model as m
from coauthor.domain import pulse as p

MAPPED: dict[type, sa.Table] = {
    m.Person: people,
    m.ApiToken: api_tokens,
    acc.SignInSession: sessions,
    acc.PasswordReset: password_resets,
    acc.Invitation: invitations,
    m.Organization: organizations,
    m.Alliance: alliances,
    m.Partner: partners,
    m.Member: members,
    m.PartnerNote: partner_notes,
    m.Agreement: agreements,
    m.Obligation: obligations,
    m.GovernanceBody: governance_bodies,
    m.BodySeat: body_seats,
    m.DecisionRight: decision_rights,
    m.Meeting: meetings,
    m.Attendance: attendance,
    m.Risk: risks,
    m.RiskShare: risk_shares,
    m.Contribution: contributions,
    m.Event: events,
    m.Deliberation: deliberations,
    m.Participant: participants,
    m.Statement: statements,
    m.Vote: votes,
    m.Declaration: declarations,
    m.CharterClause: charter_clauses,
    p.CustomItem: pulse_custom_items,
    p.Wave: pulse_waves,
    p.WaveItem: pulse_wave_items,
    p.WaveInvitation: pulse_invitations,
    p.Response: pulse_responses,
    p.Comment: pulse_comments,
    c.Commitment: commitments,
    c.CommitmentParty: commitment_parties,
    c.Act: speech_acts,
    c.DeclarationPosition: declaration_positions,
    c.ObligationAssignment: obligation_assignments,
    c.CalendarFeed: calendar_feeds,
}

mapper_registry = registry(metadata=metadata)
_mapped = False


def map_domain() -> None:
    """Map every domain dataclass onto its table, once per process."""
    global _mapped
    if _mapped:
        return
    for cls, table in MAPPED.items():
        mapper_registry.map_imperatively(cls, table)
    _mapped = True
