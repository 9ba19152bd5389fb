"""The commitment ledger: commitments and their acts, declarations, obligations, calendar
feeds and figures."""
