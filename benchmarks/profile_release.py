"""Where one results release's CPU goes, at bench_live's scale (not part of `make bench`).

Loads bench_live's deliberation (2,000 participants × 200 statements, 120,000
votes) on SQLite and on a throwaway PostgreSQL, publishes the first release,
has ``--voters`` of the bench's members vote (so that the next release is due
and warm-starts from the first one's state), then times the worker's next
release ``--repeats`` times each way — every vote read, and the votes the worker
kept from the first release plus those changed since (``kept_votes.py``) — : CPU
(``time.process_time``) and wall time of preparing it (reading, the analysis, the
facts; on PostgreSQL also the CPU of the server process that answered the reads) and
of storing it with its document (in a transaction that is rolled back, so every
repeat makes the same release). It also times what a web process does for a results
version it has not seen (``encoded_results`` with empty caches).
``--profile`` prints the top of a cProfile of one more preparation.

Usage: ``python benchmarks/profile_release.py [--repeats 5] [--profile] [--database both]``
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_live import STATEMENTS, seed  # noqa: E402


def _vote(runtime, alliance_id: str, deliberation_id: str, voters: int) -> None:
    """Each of the first ``voters`` members votes on three statements."""
    from coauthor.domain import model as m
    from coauthor.services.deliberation.acts import do_vote

    with runtime.uow() as uow:
        people = sorted(
            (p.email, p.id)
            for p in uow.find(m.Person)
            if p.email.startswith("voter") and p.email.endswith("@live.example")
        )
        statements = [s.id for s in uow.find(m.Statement, alliance_id=alliance_id)]
    for number, (_, person_id) in enumerate(people[:voters]):
        for step in range(3):
            body = {
                "statement_id": statements[(number * 7 + step * 31) % STATEMENTS],
                "value": (number + step) % 3 - 1,
            }
            with runtime.uow() as uow:
                actor = uow.get(m.Person, id=person_id)
                uow.write(do_vote, actor, alliance_id, deliberation_id, body)


def _backend_pid(uow) -> int | None:
    """The PostgreSQL server process serving this unit of work (None on SQLite)."""
    import sqlalchemy as sa

    if uow.session.bind.dialect.name != "postgresql":
        return None
    return uow.session.scalar(sa.select(sa.func.pg_backend_pid()))


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when None)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _new_version_cost(runtime, alliance_id: str, deliberation_id: str) -> float:
    """CPU of what a web process does for a results version it has not seen: the
    routed handler's ``encoded_results`` with empty process caches, as a member."""
    from coauthor.domain import model as m
    from coauthor.runtime import BoundedCache
    from coauthor.services.deliberation import results
    from coauthor.web.deliberation_results import encoded_results

    with runtime.uow() as uow:
        person = next(
            p for p in uow.find(m.Person) if p.email.startswith("voter") and not p.is_admin
        )
        version = results.results_version(uow, person, alliance_id, deliberation_id)
        runtime.results_documents = BoundedCache(4)
        runtime.results_json = BoundedCache(4)
        cpu = time.process_time()
        encoded_results(runtime, uow, person, alliance_id, deliberation_id, version)
        return time.process_time() - cpu


def _timed(action: Callable[[], object]) -> tuple[float, float, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = action()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def profile_database(label: str, url: str, repeats: int, voters: int, profile: bool) -> None:
    from coauthor.config import Settings
    from coauthor.domain import model as m
    from coauthor.runtime import build_runtime
    from coauthor.services.deliberation import results
    from coauthor.worker import ResultsWorker, one_blas_thread

    started = time.perf_counter()
    alliance_id, deliberation_id, *_ = seed(url)
    runtime = build_runtime(Settings(database_url=url))
    threshold = runtime.settings.anonymity_threshold
    try:
        worker = ResultsWorker(runtime)
        cpu, wall, published = _timed(worker.run_once)
        print(
            f"{label}: seeded in {time.perf_counter() - started:.1f} s; first release "
            f"(cold, no previous state): {published} published, CPU {cpu:.3f} s, "
            f"wall {wall:.3f} s"
        )
        builds = [_new_version_cost(runtime, alliance_id, deliberation_id) for _ in range(repeats)]
        print(
            f"{label}: a new version in a web process (encoded_results, empty caches): "
            f"CPU min {min(builds) * 1000:.1f} ms, median "
            f"{sorted(builds)[len(builds) // 2] * 1000:.1f} ms"
        )
        _vote(runtime, alliance_id, deliberation_id, voters)

        kept = worker.kept[(alliance_id, deliberation_id)]
        server_cpu: dict[str, list[float]] = {"all": [], "kept": []}

        def prepare(way: str = "all"):
            with runtime.uow() as uow:
                backend = _backend_pid(uow)
                before = _process_cpu(backend)
                deliberation = uow.get(m.Deliberation, alliance_id=alliance_id, id=deliberation_id)
                with one_blas_thread():
                    prepared = results.prepare_release(
                        uow, deliberation, threshold, kept=kept if way == "kept" else None
                    )
                if backend is not None:
                    server_cpu[way].append(_process_cpu(backend) - before)
                return prepared

        def store(prepared):
            with runtime.uow() as uow:
                stored = results.do_store_release(uow, prepared)
                uow.session.rollback()
                return stored

        prepared_cpu: dict[str, list[float]] = {"all": [], "kept": []}
        stored_cpu = []
        for _ in range(repeats):
            made = {}
            for way in ("all", "kept"):
                cpu, wall, prepared = _timed(lambda: prepare(way))  # noqa: B023
                assert prepared is not None, "the next release should be due"
                made[way] = prepared
                prepared_cpu[way].append(cpu)
                cpu_store, _, stored = _timed(lambda: store(prepared))  # noqa: B023
                assert stored is not None
                stored_cpu.append(cpu_store)
                print(
                    f"  release {prepared.number}, {way} votes read: prepare CPU {cpu:.3f} s "
                    f"(wall {wall:.3f} s), store CPU {cpu_store:.3f} s"
                )
            assert made["kept"] == made["all"], "the kept votes make the same release"
        for way, meaning in (("all", "every vote read"), ("kept", "kept votes + changes")):
            spent, server = prepared_cpu[way], server_cpu[way]
            print(
                f"{label}, {meaning}: prepare CPU min {min(spent):.3f} s, "
                f"median {sorted(spent)[len(spent) // 2]:.3f} s"
                + (f"; PostgreSQL backend CPU min {min(server):.3f} s" if server else "")
            )
        print(
            f"{label}: store CPU min {min(stored_cpu):.3f} s; kept votes: "
            f"{kept.full_reads} full reads, {kept.change_reads} reads of the changes"
        )
        if profile:
            profiler = cProfile.Profile()
            profiler.runcall(prepare)
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--voters", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.database != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/release.sqlite3"
            profile_database("SQLite", url, args.repeats, args.voters, args.profile)
    if args.database == "sqlite":
        return
    from tests.pg import running_postgres

    with running_postgres() as postgres:
        postgres.create_database("release")
        url = postgres.url("release")
        profile_database("PostgreSQL", url, args.repeats, args.voters, args.profile)


if __name__ == "__main__":
    main()
