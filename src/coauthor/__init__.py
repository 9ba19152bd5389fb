"""Coauthor: a workspace for inter-organizational alliances."""

__version__ = "0.1.0"
