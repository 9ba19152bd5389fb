"""A group of votes in the writer: CPU per vote, statements and wall time per group.

What the vote layer's writer runs for each group of votes that waited together
(``web/vote_posts._votes``: the people found, the group written in one transaction),
called directly in this process on ``test_concurrency``'s alliance (20 members with
bearer tokens, 5 statements), SQLite and PostgreSQL. Each round writes ``--groups``
groups of ``--size`` votes (each a member's vote on a statement, the values moving from
group to group). Reported per database, median of the rounds:
CPU of the writing thread per vote (``time.thread_time``; the PostgreSQL server's own CPU
is not in it), wall time per group, and the statements sent per group (counted at
SQLAlchemy's cursor, the transaction's BEGIN, COMMIT and ROLLBACK included, each a round
trip on a database server; the reads that ``db/driver_reads.py`` sends past SQLAlchemy
fire its cursor events too). Compare two versions of the code by running this file with
each one's ``src`` first on ``PYTHONPATH``.

Usage: ``python benchmarks/profile_vote_groups.py [--size 30] [--groups 20] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class _Answer:
    timeline: None = None


def measure(database_url: str, size: int, groups: int, rounds: int) -> dict[str, float]:
    import sqlalchemy as sa
    from starlette.datastructures import Headers
    from test_concurrency import seed

    from coauthor.config import Settings
    from coauthor.runtime import build_runtime
    from coauthor.services.deliberation.inputs import VoteInput
    from coauthor.web import vote_posts

    settings = Settings(database_url=database_url, secret_key="profile-vote-groups")
    seeded = seed(settings)
    runtime = build_runtime(settings)
    statements = [0]

    @sa.event.listens_for(runtime.engine, "before_cursor_execute")
    def counted(*_: object) -> None:
        statements[0] += 1

    @sa.event.listens_for(runtime.engine, "commit")
    def committed(*_: object) -> None:
        statements[0] += 1

    @sa.event.listens_for(runtime.engine, "rollback")
    def rolled_back(*_: object) -> None:
        statements[0] += 1

    @sa.event.listens_for(runtime.engine, "begin")
    def begun(*_: object) -> None:
        statements[0] += 1

    def group(number: int) -> list[vote_posts._Vote]:
        made = []
        for slot in range(size):
            token = seeded.tokens[(number * size + slot) % len(seeded.tokens)]
            statement = seeded.statements[(number * size + slot) // len(seeded.tokens) % 5]
            value = (number + slot) % 3 - 1
            made.append(
                vote_posts._Vote(
                    Headers({"authorization": f"Bearer {token}"}),
                    seeded.alliance_id,
                    seeded.deliberation_id,
                    VoteInput(statement_id=statement, value=value),
                    _Answer(),  # type: ignore[arg-type]
                )
            )
        return made

    figures: dict[str, list[float]] = {"cpu": [], "wall": [], "statements": []}
    try:
        vote_posts._votes(runtime, group(0))  # warm: statements built, participants joined
        for round_number in range(rounds):
            made = [group(round_number * groups + n + 1) for n in range(groups)]
            statements[0] = 0
            cpu, wall = time.thread_time(), time.perf_counter()
            for votes in made:
                outcomes = vote_posts._votes(runtime, votes)
                assert all(isinstance(outcome, bytes) for outcome in outcomes), outcomes
            figures["cpu"].append(1000 * (time.thread_time() - cpu) / (groups * size))
            figures["wall"].append(1000 * (time.perf_counter() - wall) / groups)
            figures["statements"].append(statements[0] / groups)
    finally:
        runtime.close()
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=30)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.pg import running_postgres

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/votes.sqlite3"
        sqlite = measure(url, args.size, args.groups, args.rounds)
    with running_postgres() as postgres:
        postgres.create_database("votes")
        postgresql = measure(postgres.url("votes"), args.size, args.groups, args.rounds)
    for label, found in (("SQLite", sqlite), ("PostgreSQL", postgresql)):
        print(
            f"{label}: groups of {args.size} votes, median of {args.rounds} rounds of "
            f"{args.groups}: writer CPU {found['cpu']:.2f} ms per vote, "
            f"{found['wall']:.1f} ms wall per group, "
            f"{found['statements']:.0f} statements per group"
        )


if __name__ == "__main__":
    main()
