"""The mechanics: alliances, partners, members, and the registers (agreements to contributions)."""
