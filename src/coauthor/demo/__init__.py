"""The demo alliance: a year of a joint venture, seeded through the services."""
