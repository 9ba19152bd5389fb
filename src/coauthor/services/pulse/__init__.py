"""The pulse: waves, answering through signed links, results under the anonymity rules."""
