"""The alliance archive, coauthor-archive/1: its document, export and import."""
