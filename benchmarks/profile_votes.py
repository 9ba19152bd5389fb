"""CPU per vote in-process, through the app and its vote layer, SQLite and PostgreSQL.

The app is served by Starlette's test client in this process (its own work included in
the CPU time); 20 members vote on 5 statements. Two ways, each ``--votes`` votes, timed
with ``time.process_time`` (every thread of the process; on PostgreSQL the database
server's own CPU is not in it): one after the other (each vote written alone) and from
20 threads at once (the votes that wait are written together, as group commits).
Compare two versions of the code by running this file with each on ``PYTHONPATH``.

Usage: ``python benchmarks/profile_votes.py [--votes 400] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

THREADS = 20


def measure(database_url: str, votes: int, rounds: int) -> dict[str, float]:
    from fastapi.testclient import TestClient
    from test_concurrency import seed

    from coauthor.config import Settings
    from coauthor.web.app import create_app

    settings = Settings(database_url=database_url, secret_key="profile-votes")
    seeded = seed(settings)
    url = f"/api/v1/alliances/{seeded.alliance_id}/deliberations/{seeded.deliberation_id}/votes"
    sends = [
        (seeded.tokens[n % len(seeded.tokens)], seeded.statements[n % 5], (n // 7) % 3 - 1)
        for n in range(votes)
    ]
    figures: dict[str, list[float]] = {"alone": [], "together": []}
    with TestClient(create_app(settings)) as client:

        def send(request: tuple[str, str, int]) -> None:
            token, statement, value = request
            response = client.post(
                url,
                json={"statement_id": statement, "value": value},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text

        for _ in range(20):
            send(sends[0])
        for _ in range(rounds):
            started = time.process_time()
            for request in sends:
                send(request)
            figures["alone"].append(1000 * (time.process_time() - started) / votes)
            started = time.process_time()
            with ThreadPoolExecutor(max_workers=THREADS) as threads:
                list(threads.map(send, sends))
            figures["together"].append(1000 * (time.process_time() - started) / votes)
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.pg import running_postgres

    with tempfile.TemporaryDirectory() as folder:
        sqlite = measure(f"sqlite:///{folder}/votes.sqlite3", args.votes, args.rounds)
    with running_postgres() as postgres:
        postgres.create_database("votes")
        postgresql = measure(postgres.url("votes"), args.votes, args.rounds)
    for label, found in (("SQLite", sqlite), ("PostgreSQL", postgresql)):
        print(
            f"{label}: CPU per vote, median of {args.rounds} rounds of {args.votes}: "
            f"one after the other {found['alone']:.2f} ms, "
            f"from {THREADS} threads {found['together']:.2f} ms"
        )


if __name__ == "__main__":
    main()
