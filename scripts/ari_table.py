"""Agreement of our opinion groups and of red-dwarf's with Pol.is's own ``group-id``.

For every export in ``tests/data/polis``, Pol.is's group of each participant
(``participants-votes.csv``) is compared with:

* ``analyze`` run once on the final votes, with the math Pol.is ran at the
  export's last vote (what ``deliberation analyze`` prints);
* ``replay``: the vote log replayed update by update, every 1-second batch,
  each update with the math Pol.is ran at its date (``--replay``);
* red-dwarf 0.4.0 ``run_pipeline``, called as its Pol.is notebooks do: votes
  as red-dwarf's ``Vote`` records, duplicates dropped keeping the most recent
  (``Loader.filter_duplicate_votes``), ``mod_out_statement_ids`` from
  ``process_statements``, ``random_state`` fixed.

Each comparison gives the adjusted Rand index (ARI) over **every participant
Pol.is grouped**, those we leave ungrouped counting as one more group, and
the **coverage**: the share of Pol.is's grouped participants that are grouped
at all. (The ARI over participants both sides grouped, the measure used
before, is given too: it hides the participants left out.)

Each era rule (``coauthor.analysis.opinion_era.ERA_RULES``) is then checked
on its own: the replay is run again with that rule's fields held at today's
values at every date, wherever the conversation's dates make a difference.

Pol.is's CSV export does not say which statements were *meta*; where we know,
``tests/data/polis-meta.json`` says so and why, and the conversation gets a
second row with those statements marked meta (for red-dwarf as
``mod_out_statement_ids``). Means are over one row per conversation, the one
with its meta statements where there is one. The tables are printed and
written into ``docs/deliberation.md`` between the ari-table markers.

Usage: ``python scripts/ari_table.py [--no-replay] [--no-rules] [--max-updates N] [--no-write]``
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from doc_section import replace_marked_section

from coauthor.analysis.opinion import CURRENT, PolisMath, adjusted_rand_index
from coauthor.analysis.opinion_era import ERA_RULES, EraRule, history_without
from coauthor.cli.deliberation import parse_statement_ids
from coauthor.interop.polis import (
    PolisExport,
    analyze_polis_export,
    read_polis_export,
    replay_polis_export,
    with_meta,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "polis"
DOC = ROOT / "docs" / "deliberation.md"
META = ROOT / "tests" / "data" / "polis-meta.json"
START, END = "<!-- ari-table:start -->", "<!-- ari-table:end -->"
SEED = 0
GOAL_MEAN = 0.8
UNGROUPED = -1
DATED = "dated"
TODAY = "today"

Groups = Mapping[str, int | None]


@dataclass(frozen=True)
class Score:
    """How one grouping compares with Pol.is's."""

    ari: float
    coverage: float
    ari_both: float
    k: int

    def cell(self) -> str:
        return f"{self.ari:.3f} · {self.coverage:.0%} (k={self.k})"


def score(polis: Groups, ours: Groups) -> Score:
    """ARI over Pol.is's grouped participants (our ungrouped: one group), coverage, both-ARI."""
    grouped = [p for p, g in polis.items() if g is not None]
    theirs = [polis[p] for p in grouped]
    mine = [ours.get(p) for p in grouped]
    labelled = [UNGROUPED if g is None else g for g in mine]
    both = [i for i, g in enumerate(mine) if g is not None]
    return Score(
        ari=adjusted_rand_index(theirs, labelled),
        coverage=len(both) / len(grouped) if grouped else 0.0,
        ari_both=adjusted_rand_index([theirs[i] for i in both], [labelled[i] for i in both]),
        k=len({g for g in ours.values() if g is not None}),
    )


@dataclass(frozen=True)
class Row:
    name: str
    meta: str
    polis_groups: int
    polis_grouped: int
    once: Score
    reddwarf: Score
    replayed: dict[str, Score] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}, statements {self.meta} meta" if self.meta else self.name


def known_meta(path: Path = META) -> dict[str, str]:
    """Conversation → its meta statements (``"1-14"``) from the annotation file."""
    entries = json.loads(path.read_text(encoding="utf-8"))["conversations"]
    return {name: entry["meta"] for name, entry in entries.items()}


def load(folder: Path, meta: str) -> PolisExport:
    export = read_polis_export(folder)
    return with_meta(export, parse_statement_ids(meta)) if meta else export


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


def reddwarf_groups(folder: Path, meta: list[str], seed: int = SEED) -> dict[str, int | None]:
    from reddwarf.implementations.polis import run_pipeline

    votes, mod_out = reddwarf_inputs(folder)
    mod_out = sorted(set(mod_out) | {int(s) for s in meta})
    result = run_pipeline(votes=votes, mod_out_statement_ids=mod_out, random_state=seed)
    labels = result.participants_df["cluster_id"]
    return {
        str(p): None if label is None or str(label) == "<NA>" else int(label)
        for p, label in labels.items()
    }


def one_analysis_row(folder: Path, meta: str) -> Row:
    """The row without its replays: one analysis in the export's era, and red-dwarf."""
    export = load(folder, meta)
    polis = export.groups
    once = analyze_polis_export(export, seed=SEED)
    return Row(
        name=folder.name,
        meta=meta,
        polis_groups=len({g for g in polis.values() if g is not None}),
        polis_grouped=sum(g is not None for g in polis.values()),
        once=score(polis, once.group_of()),
        reddwarf=score(polis, reddwarf_groups(folder, parse_statement_ids(meta) if meta else [])),
    )


def replayed_score(folder: Path, meta: str, variant: str, max_updates: int | None) -> Score:
    """The replay under ``variant``: the dated history, today's math, or one rule held as today."""
    export = load(folder, meta)
    era: PolisMath | Callable[[float], PolisMath] | None = None
    if variant == TODAY:
        era = CURRENT
    elif variant != DATED:
        era = history_without(next(r for r in ERA_RULES if r.name == variant))
    result = replay_polis_export(export, seed=SEED, max_updates=max_updates, era=era)
    return score(export.groups, result.group_of())


def rules_to_check(folder: Path) -> list[EraRule]:
    """The era rules whose fields, somewhere in the conversation's dates, differ from today's."""
    export = read_polis_export(folder)
    if export.vote_log is None:
        return []
    seconds = export.vote_log.seconds
    first, last = float(seconds.min()), float(seconds.max())
    return [rule for rule in ERA_RULES if _can_matter(rule, export, first, last)]


MODERATION_FIELDS = {"in_conv_counts_moderated", "zero_moderated", "moderation_known_since"}


def _can_matter(rule: EraRule, export: PolisExport, first: float, last: float) -> bool:
    """Whether the rule differs from today in the conversation's dates, for its data."""
    if not rule.differs_from_today(first, last):
        return False
    matrix = export.matrix
    if MODERATION_FIELDS & set(rule.fields):
        return bool(matrix.moderated_out | matrix.meta)
    if rule.fields == ("max_participants", "max_statements"):
        rows, cols = export.matrix.shape
        smallest = min(e.max_statements for e in rule.changes() if e.max_statements)
        return rows > min(e.max_participants for e in rule.changes() if e.max_participants) or (
            cols > smallest
        )
    return True


# ---------------------------------------------------------------- tables


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "—"


def _counted(rows: list[Row]) -> list[Row]:
    """One row per conversation: the last (with its meta statements where there is one)."""
    return list({r.name: r for r in rows}.values())


def render(rows: list[Row], with_replay: bool) -> str:
    """The main table, its means and verdicts, and the per-rule table."""
    lines = [
        "| conversation | Pol.is groups (grouped) | ours, one analysis | ours, replayed "
        "| red-dwarf 0.4.0 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        replayed = r.replayed.get(DATED)
        lines.append(
            f"| {r.label} | {r.polis_groups} ({r.polis_grouped}) | {r.once.cell()} "
            f"| {replayed.cell() if replayed else '—'} | {r.reddwarf.cell()} |"
        )
    counted = _counted(rows)
    replayed_scores = [r.replayed[DATED] for r in counted if DATED in r.replayed]
    complete = with_replay and len(replayed_scores) == len(counted)
    columns = [
        [r.once for r in counted],
        replayed_scores if complete else [],
        [r.reddwarf for r in counted],
    ]
    lines.append(
        "| **mean ARI · coverage** | | "
        + " | ".join(
            f"**{_mean([s.ari for s in c])} · {_mean([s.coverage for s in c])}**" if c else "—"
            for c in columns
        )
        + " |"
    )
    lines.append(
        "| mean ARI over both grouped | | "
        + " | ".join(_mean([s.ari_both for s in c]) if c else "—" for c in columns)
        + " |"
    )
    lines += ["", _verdict("one analysis", [r.once for r in counted], counted)]
    if complete:
        lines.append(_verdict("replayed", replayed_scores, counted))
    if complete and any(len(r.replayed) > 1 for r in counted):
        lines += ["", *render_rules(counted)]
    return "\n".join(lines)


def _verdict(column: str, scores: list[Score], rows: list[Row]) -> str:
    """Whether a column meets the goal: mean ARI >= 0.8 and nowhere below red-dwarf."""
    mean = statistics.fmean(s.ari for s in scores)
    below = [r.name for r, s in zip(rows, scores, strict=True) if s.ari < r.reddwarf.ari]
    met = mean >= GOAL_MEAN and not below
    where = ", ".join(below) if below else "no conversation"
    return (
        f"- Ours, {column}: mean ARI {mean:.3f} over every participant Pol.is grouped, "
        f"below red-dwarf on {where}: the goal is {'met' if met else 'not met'}."
    )


def render_rules(rows: list[Row]) -> list[str]:
    """Replayed ARI · coverage with each era rule held at today's values (— : no difference)."""
    names = [r.name for r in rows]
    lines = [
        "| replayed with | " + " | ".join(names) + " | mean ARI · coverage |",
        "| --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    variants = [(DATED, "every rule, as dated"), (TODAY, "today's math throughout")]
    variants += [(rule.name, f"{_rule_label(rule)} as today") for rule in ERA_RULES]
    for variant, label in variants:
        scores = [r.replayed.get(variant, r.replayed[DATED]) for r in rows]
        cells = [
            s.cell() if variant in r.replayed or variant == DATED else "—"
            for r, s in zip(rows, scores, strict=True)
        ]
        mean = f"{_mean([s.ari for s in scores])} · {_mean([s.coverage for s in scores])}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {mean} |")
    return lines


def _rule_label(rule: EraRule) -> str:
    dates = ", ".join(f"{era.since} `{era.commit}`" for era in rule.changes())
    return f"{rule.name} ({dates})"


def write_into_doc(table: str, doc: Path = DOC) -> None:
    replace_marked_section(doc, START, END, table)


# ---------------------------------------------------------------- running


def _size(folder: Path) -> int:
    """Biggest vote logs first, so that the workers finish together."""
    return (folder / "votes.csv").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-replay", action="store_true", help="skip the replays")
    parser.add_argument("--no-rules", action="store_true", help="skip the per-rule replays")
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
    meta = known_meta()
    folders = sorted((p for p in DATA.iterdir() if p.is_dir()), key=_size, reverse=True)
    jobs = [(f, m) for f in folders for m in ("", *([meta[f.name]] if f.name in meta else []))]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        once = {(f.name, m): pool.submit(one_analysis_row, f, m) for f, m in jobs}
        replays: dict[tuple[str, str], dict[str, Future[Score]]] = {}
        if not args.no_replay:
            for f, m in jobs:
                rules = [] if args.no_rules else [r.name for r in rules_to_check(f)]
                variants = [DATED, *([TODAY] if rules else []), *rules]
                replays[(f.name, m)] = {
                    v: pool.submit(replayed_score, f, m, v, args.max_updates) for v in variants
                }
        _report_progress(once, replays)
        rows = []
        for folder, statements in sorted(jobs, key=lambda job: (job[0].name, job[1])):
            key = (folder.name, statements)
            row = once[key].result()
            scores = {v: future.result() for v, future in replays.get(key, {}).items()}
            rows.append(replace(row, replayed=scores))
    table = render(rows, with_replay=not args.no_replay)
    print(table)
    if not args.no_write:
        write_into_doc(table)


def _report_progress(
    once: dict[tuple[str, str], Future[Row]],
    replays: dict[tuple[str, str], dict[str, Future[Score]]],
) -> None:
    def done(label: str) -> Callable[[Future], None]:
        return lambda _: print(f"done: {label}", flush=True)

    for (name, meta), future in once.items():
        future.add_done_callback(done(f"{name} {meta} one analysis"))
    for (name, meta), variants in replays.items():
        for variant, future in variants.items():
            future.add_done_callback(done(f"{name} {meta} replay {variant}"))


if __name__ == "__main__":
    main()
