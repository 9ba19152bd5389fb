"""Deliberations: statements, votes, moderation, routing, results and Pol.is transfer."""
