"""ARI of our opinion groups and of red-dwarf's against Pol.is's own ``group-id``.

For every export in ``tests/data/polis`` this computes the adjusted Rand index
(ARI) between Pol.is's group of each participant (``participants-votes.csv``)
and:

* ``analyze`` run once on the final votes (what ``deliberation analyze`` prints);
* ``replay``: the vote log replayed update by update as Pol.is computed it
  (every 1-second batch, as ``replay`` does by default; ``--max-updates N``
  merges them down to N updates, faster and approximate);
* red-dwarf 0.4.0 ``run_pipeline``, called as its Pol.is notebooks do: votes
  as red-dwarf's ``Vote`` records, duplicates dropped keeping the most recent
  (``Loader.filter_duplicate_votes``), ``mod_out_statement_ids`` from
  ``process_statements``, ``random_state`` fixed.

The ARI is over participants both sides clustered. Pol.is's CSV export does
not say which statements were *meta* (moderated out of its math); where we
know, ``tests/data/polis-meta.json`` says so and why, and the conversation gets
a second row computed with those statements marked meta, for us and for
red-dwarf alike (as ``mod_out_statement_ids``, which is what Pol.is does with
meta statements). The means are over one row per conversation: the one with
its meta statements where there is one. The table is printed and written into
``docs/deliberation.md`` between the ari-table markers.

Usage: ``python scripts/ari_table.py [--no-replay] [--max-updates N] [--no-write]``
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from doc_section import replace_marked_section

from coauthor.analysis.opinion import adjusted_rand_index, analyze
from coauthor.cli.deliberation import parse_statement_ids
from coauthor.interop.polis import PolisExport, read_polis_export, replay_polis_export, with_meta

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "polis"
DOC = ROOT / "docs" / "deliberation.md"
META = ROOT / "tests" / "data" / "polis-meta.json"
START, END = "<!-- ari-table:start -->", "<!-- ari-table:end -->"
SEED = 0
GOAL_MEAN = 0.8


@dataclass(frozen=True)
class Row:
    name: str
    polis_groups: int
    ours: float
    replayed: float | None
    reddwarf: float
    ours_k: int
    replayed_k: int | None
    reddwarf_k: int
    compared: int
    meta: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}, statements {self.meta} meta" if self.meta else self.name


def known_meta(path: Path = META) -> dict[str, str]:
    """Conversation → its meta statements (``"1-14"``) from the annotation file."""
    entries = json.loads(path.read_text(encoding="utf-8"))["conversations"]
    return {name: entry["meta"] for name, entry in entries.items()}


def ari_against(polis: dict[str, int | None], ours: dict[str, int | None]) -> tuple[float, int]:
    """ARI over participants clustered by both, and how many they are."""
    common = [p for p, g in polis.items() if g is not None and ours.get(p) is not None]
    return adjusted_rand_index([polis[p] for p in common], [ours[p] for p in common]), len(common)


def reddwarf_inputs(folder: Path) -> tuple[list[dict], list[int]]:
    """Votes and moderated-out ids prepared with red-dwarf's own loader code."""
    from reddwarf.data_loader import Loader
    from reddwarf.models import Statement, Vote
    from reddwarf.utils.statements import process_statements

    loader = Loader()
    with (folder / "votes.csv").open(newline="", encoding="utf-8") as handle:
        loader.votes_data = [Vote(**row).model_dump(mode="json") for row in csv.DictReader(handle)]
    with (folder / "comments.csv").open(newline="", encoding="utf-8") as handle:
        comments = [Statement(**row).model_dump(mode="json") for row in csv.DictReader(handle)]
    loader.filter_duplicate_votes(keep="recent")
    _, _, mod_out, _ = process_statements(statement_data=comments)
    return loader.votes_data, [int(t) for t in mod_out]


def reddwarf_groups(
    folder: Path, meta: list[str] | None = None, seed: int = SEED
) -> dict[str, int | None]:
    from reddwarf.implementations.polis import run_pipeline

    votes, mod_out = reddwarf_inputs(folder)
    mod_out = sorted(set(mod_out) | {int(s) for s in meta or []})
    result = run_pipeline(votes=votes, mod_out_statement_ids=mod_out, random_state=seed)
    labels = result.participants_df["cluster_id"]
    return {
        str(p): None if label is None or str(label) == "<NA>" else int(label)
        for p, label in labels.items()
    }


def compute_row(
    folder: Path,
    *,
    with_replay: bool,
    max_updates: int | None = None,
    meta: str = "",
) -> Row:
    export: PolisExport = read_polis_export(folder)
    meta_ids = parse_statement_ids(meta) if meta else []
    if meta_ids:
        export = with_meta(export, meta_ids)
    polis = export.groups
    once = analyze(export.matrix, seed=SEED)
    ours, compared = ari_against(polis, once.group_of())
    replayed = (
        replay_polis_export(export, seed=SEED, max_updates=max_updates) if with_replay else None
    )
    theirs = reddwarf_groups(folder, meta_ids)
    return Row(
        name=folder.name,
        polis_groups=len({g for g in polis.values() if g is not None}),
        ours=ours,
        replayed=ari_against(polis, replayed.group_of())[0] if replayed else None,
        reddwarf=ari_against(polis, theirs)[0],
        ours_k=once.k,
        replayed_k=replayed.k if replayed else None,
        reddwarf_k=len({g for g in theirs.values() if g is not None}),
        compared=compared,
        meta=meta,
    )


def _cell(value: float | None, k: int | None) -> str:
    return "—" if value is None else f"{value:.3f} (k={k})"


def render(rows: list[Row]) -> str:
    """The table; the means take each conversation's last row (with its meta statements)."""
    lines = [
        "| conversation | Pol.is groups | compared | ours, one analysis | ours, replayed "
        "| red-dwarf 0.4.0 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.polis_groups} | {r.compared} | {_cell(r.ours, r.ours_k)} "
            f"| {_cell(r.replayed, r.replayed_k)} | {_cell(r.reddwarf, r.reddwarf_k)} |"
        )
    counted = list({r.name: r for r in rows}.values())
    replayed = [r.replayed for r in counted if r.replayed is not None]
    mean_replayed = f"{statistics.fmean(replayed):.3f}" if len(replayed) == len(counted) else "—"
    lines.append(
        f"| **mean** | | | **{statistics.fmean(r.ours for r in counted):.3f}** "
        f"| **{mean_replayed}** | **{statistics.fmean(r.reddwarf for r in counted):.3f}** |"
    )
    lines += ["", _verdict("one analysis", [r.ours for r in counted], counted)]
    if len(replayed) == len(counted):
        lines.append(_verdict("replayed", replayed, counted))
    return "\n".join(lines)


def _verdict(column: str, values: list[float], rows: list[Row]) -> str:
    """Whether a column meets the goal: mean >= 0.8 and nowhere below red-dwarf."""
    mean = statistics.fmean(values)
    below = [r.name for r, v in zip(rows, values, strict=True) if v < r.reddwarf]
    met = mean >= GOAL_MEAN and not below
    where = ", ".join(below) if below else "no conversation"
    return (
        f"- Ours, {column}: mean {mean:.3f}, below red-dwarf on {where}: "
        f"the goal is {'met' if met else 'not met'}."
    )


def write_into_doc(table: str, doc: Path = DOC) -> None:
    replace_marked_section(doc, START, END, table)


def _size(job: tuple[Path, str]) -> int:
    """Biggest vote logs first, so that two workers finish together."""
    return (job[0] / "votes.csv").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-replay", action="store_true", help="skip the (slow) replay column")
    parser.add_argument(
        "--max-updates",
        type=int,
        default=None,
        help="merge the replay's 1-second batches down to at most N updates (default: every "
        "batch, as Pol.is polled)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    folders = sorted(p for p in DATA.iterdir() if p.is_dir())
    meta = known_meta()
    jobs = [
        (folder, statements)
        for folder in folders
        for statements in ("", *([meta[folder.name]] if folder.name in meta else []))
    ]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = {
            (folder.name, statements): pool.submit(
                compute_row,
                folder,
                with_replay=not args.no_replay,
                max_updates=args.max_updates,
                meta=statements,
            )
            for folder, statements in sorted(jobs, key=_size, reverse=True)
        }
        for (name, statements), future in futures.items():
            future.add_done_callback(
                lambda _, n=name, m=statements: print(f"done: {n} {m}".rstrip(), flush=True)
            )
        rows = [futures[(folder.name, statements)].result() for folder, statements in jobs]
    table = render(rows)
    print(table)
    if not args.no_write:
        write_into_doc(table)


if __name__ == "__main__":
    main()
