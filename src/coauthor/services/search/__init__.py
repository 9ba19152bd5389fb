"""Search: words in, the alliance's items out — for one alliance or every alliance one can see.

- ``kinds.py`` says what is searchable: each kind of item (an agreement, a
  risk, a member, a statement, …) with the words it is found by. A feature
  makes its items searchable by adding a ``Searchable`` there.
- ``index.py`` keeps the index (table ``search_entries``, plus SQLite's FTS5
  table or PostgreSQL's full-text index over it) current: it watches every
  flush of a session and rewrites the entries of what changed in the same
  transaction, and it rebuilds the whole index (``coauthor search reindex``).
- ``query.py`` answers a person's search, permission-checked: only alliances
  they may see, and a partner's private notes only for that partner's members.
- ``text.py`` folds text for matching (case and accents) and cuts snippets.
"""
