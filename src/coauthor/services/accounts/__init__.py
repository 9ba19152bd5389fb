"""Accounts: people, passwords, signing in and API tokens."""
