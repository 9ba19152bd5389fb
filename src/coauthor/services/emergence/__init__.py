"""Emergence: plot twists, tensions, experiments, learnings and their links (docs/emergence.md)."""
