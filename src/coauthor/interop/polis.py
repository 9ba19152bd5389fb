"""Pol.is export folders: read into a :class:`VoteMatrix`, write back.

An export folder holds ``comments.csv``, ``votes.csv`` (the full vote log;
the last vote of a participant on a comment wins, by timestamp then file
order), ``participants-votes.csv`` (one row per participant with Pol.is's
``group-id`` and one column per comment) and ``summary.csv``. Some exports
lack ``votes.csv``: the votes are then rebuilt from ``participants-votes.csv``.

Every value is checked; anything malformed raises :class:`PolisImportError`
naming the file and line, and nothing partial is returned.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from coauthor.analysis.opinion import (
    CURRENT,
    OpinionResult,
    PolisMath,
    analyze,
    polis_math_at,
    replay,
)
from coauthor.analysis.opinion_matrix import VoteMatrix

VOTES = "votes.csv"
COMMENTS = "comments.csv"
PARTICIPANTS_VOTES = "participants-votes.csv"
SUMMARY = "summary.csv"

VOTES_COLUMNS = ("timestamp", "datetime", "comment-id", "voter-id", "vote")
COMMENTS_COLUMNS = (
    "timestamp",
    "datetime",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "comment-body",
    "is-meta",
)
PARTICIPANT_COLUMNS = ("participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
OPTIONAL_PARTICIPANT_COLUMNS = ("xid",)
REQUIRED_VOTES_COLUMNS = ("timestamp", "comment-id", "voter-id", "vote")
REQUIRED_COMMENTS_COLUMNS = ("comment-id", "moderated", "comment-body")
META_COLUMNS = ("is-meta", "is_meta")
REJECTED = -1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class PolisImportError(ValueError):
    """A Pol.is export that cannot be read: ``<file>:<line>: <reason>``."""

    def __init__(self, file: str | Path, line: int, reason: str) -> None:
        self.file = str(file)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.file}:{line}: {reason}")

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, eq=False)
class VoteLog:
    """Every row of ``votes.csv`` in file order, as indices into the matrix's ids."""

    ptpt_idx: NDArray[np.int64]
    stmt_idx: NDArray[np.int64]
    vote: NDArray[np.int64]
    seconds: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class PolisExport:
    """What an export folder holds, validated.

    ``vote_log`` is the timestamped log (None when the votes were rebuilt
    from ``participants-votes.csv``, which has no history). ``statement_times``
    are the comments' timestamps in seconds (empty when ``comments.csv`` has
    none): the export does not say when a comment was moderated, so the
    analysis takes the time it was written.
    """

    matrix: VoteMatrix
    texts: dict[str, str]
    groups: dict[str, int | None]
    summary: dict[str, str] = field(default_factory=dict)
    votes_source: Literal["votes.csv", "participants-votes.csv"] = "votes.csv"
    vote_log: VoteLog | None = None
    statement_times: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Table:
    """A CSV file: header, rows, and the line each row starts on."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [row[i] for row in self.rows]


def _read_table(path: Path, required: Sequence[str]) -> _Table:
    """Read a whole CSV file (a UTF-8 byte-order mark is tolerated), checking its shape."""
    rows: list[list[str]] = []
    lines: list[int] = []
    line = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            line = reader.line_num + 1
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(line)
                line = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise PolisImportError(path, line, f"not UTF-8 text ({error.reason})") from error
    except csv.Error as error:
        raise PolisImportError(path, line, f"unreadable CSV: {error}") from error
    if header is None:
        raise PolisImportError(path, 1, "empty file")
    header = [name.strip() for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise PolisImportError(path, 1, f"missing column(s): {', '.join(missing)}")
    duplicated = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicated:
        raise PolisImportError(path, 1, f"duplicate column(s): {', '.join(duplicated)}")
    for row, row_line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise PolisImportError(
                path, row_line, f"expected {len(header)} fields, found {len(row)}"
            )
    return _Table(path=path, header=header, rows=rows, lines=lines)


def _int_values(
    table: _Table,
    name: str,
    values: Sequence[str] | None = None,
    lines: Sequence[int] | None = None,
) -> NDArray:
    """Values (default: the column ``name``) as int64, refusing the first non-integer."""
    values = table.column(name) if values is None else values
    lines = table.lines if lines is None else lines
    try:
        return np.asarray(values, dtype=np.str_).astype(np.int64)
    except (ValueError, OverflowError):
        for value, line in zip(values, lines, strict=True):
            try:
                number = int(value)
            except ValueError:
                raise PolisImportError(
                    table.path, line, f"{name} is not an integer: {value!r}"
                ) from None
            if not INT64_MIN <= number <= INT64_MAX:
                raise PolisImportError(
                    table.path, line, f"{name} is out of range: {value}"
                ) from None
        raise


def _check_votes(table: _Table, votes: NDArray, lines: Sequence[int] | None = None) -> None:
    bad = np.flatnonzero(~np.isin(votes, (-1, 0, 1)))
    if bad.size:
        line = (lines or table.lines)[int(bad[0])]
        raise PolisImportError(table.path, line, f"vote must be -1, 0 or 1, got {votes[bad[0]]}")


@dataclass(frozen=True)
class _Comments:
    ids: list[str]
    texts: dict[str, str]
    moderated_out: frozenset[str]
    meta: frozenset[str]
    times: dict[str, float]


def _read_comments(path: Path) -> _Comments:
    table = _read_table(path, REQUIRED_COMMENTS_COLUMNS)
    ids = _int_values(table, "comment-id")
    moderation = _int_values(table, "moderated")
    bad = np.flatnonzero(~np.isin(moderation, (-1, 0, 1)))
    if bad.size:
        raise PolisImportError(
            path, table.lines[bad[0]], f"moderated must be -1, 0 or 1, got {moderation[bad[0]]}"
        )
    seen: set[int] = set()
    for cid, line in zip(ids.tolist(), table.lines, strict=True):
        if cid in seen:
            raise PolisImportError(path, line, f"duplicate comment-id {cid}")
        seen.add(cid)
    statement_ids = [str(c) for c in ids.tolist()]
    meta_column = next((c for c in META_COLUMNS if c in table.header), None)
    meta = set()
    if meta_column is not None:
        flags = table.column(meta_column)
        meta = {
            s
            for s, f in zip(statement_ids, flags, strict=True)
            if f.strip().lower() in ("1", "true", "t", "yes")
        }
    return _Comments(
        ids=statement_ids,
        texts=dict(zip(statement_ids, table.column("comment-body"), strict=True)),
        moderated_out=frozenset(
            s for s, m in zip(statement_ids, moderation.tolist(), strict=True) if m == REJECTED
        )
        | meta,
        meta=frozenset(meta),
        times=_comment_times(table, statement_ids),
    )


def _comment_times(table: _Table, statement_ids: list[str]) -> dict[str, float]:
    """Each comment's ``timestamp`` (milliseconds in the file) in seconds; none without one."""
    if "timestamp" not in table.header:
        return {}
    stamps = _int_values(table, "timestamp")
    return dict(zip(statement_ids, (stamps / 1000.0).tolist(), strict=True))


def _sorted_ids(ids: set[str]) -> list[str]:
    return sorted(ids, key=int)


def _matrix_from_votes_csv(path: Path, comments: _Comments | None) -> tuple[VoteMatrix, VoteLog]:
    """Votes in Pol.is's own order: by comment, then voter, then time (its math's DB query).

    Rows therefore come in the order Pol.is's math builds its matrix in
    (which drives its k-means initialisation), and within a cell the last
    vote by timestamp, then file order, wins.
    """
    table = _read_table(path, REQUIRED_VOTES_COLUMNS)
    timestamps = _int_values(table, "timestamp")
    comment_ids = _int_values(table, "comment-id")
    voter_ids = _int_values(table, "voter-id")
    votes = _int_values(table, "vote")
    _check_votes(table, votes)
    if comments is not None:
        known = np.asarray([int(c) for c in comments.ids], dtype=np.int64)
        unknown = np.flatnonzero(~np.isin(comment_ids, known))
        if unknown.size:
            raise PolisImportError(
                path, table.lines[unknown[0]], f"unknown comment-id {comment_ids[unknown[0]]}"
            )
        statement_ids = _sorted_ids(set(comments.ids))
    else:
        statement_ids = _sorted_ids({str(c) for c in np.unique(comment_ids).tolist()})
    order = np.lexsort((timestamps, voter_ids, comment_ids))
    voters, first_seen, inverse = np.unique(
        voter_ids[order], return_index=True, return_inverse=True
    )
    appearance = np.argsort(first_seen, kind="stable")
    rank = np.empty_like(appearance)
    rank[appearance] = np.arange(appearance.size)
    rows = rank[inverse.reshape(-1)]
    participant_order = voters[appearance]
    cols = np.searchsorted(np.asarray([int(s) for s in statement_ids]), comment_ids[order])
    matrix = VoteMatrix.from_arrays(
        rows,
        cols,
        votes[order],
        participant_ids=[str(v) for v in participant_order.tolist()],
        statement_ids=statement_ids,
        moderated_out=comments.moderated_out if comments else (),
        meta=comments.meta if comments else (),
    )
    in_file_order = np.empty_like(order)
    in_file_order[order] = np.arange(order.size)
    log = VoteLog(
        ptpt_idx=rows[in_file_order],
        stmt_idx=cols[in_file_order],
        vote=votes,
        seconds=timestamps / 1000.0,
    )
    return matrix, log


@dataclass(frozen=True)
class _ParticipantsVotes:
    table: _Table
    participant_ids: list[str]
    groups: dict[str, int | None]
    statement_columns: list[str]


def _read_participants_votes(path: Path) -> _ParticipantsVotes:
    table = _read_table(path, PARTICIPANT_COLUMNS)
    fixed = set(PARTICIPANT_COLUMNS) | set(OPTIONAL_PARTICIPANT_COLUMNS)
    statement_columns = [name for name in table.header if name not in fixed]
    for name in statement_columns:
        try:
            int(name)
        except ValueError:
            raise PolisImportError(path, 1, f"unexpected column {name!r}") from None
    participants = _int_values(table, "participant")
    seen: set[int] = set()
    for pid, line in zip(participants.tolist(), table.lines, strict=True):
        if pid in seen:
            raise PolisImportError(path, line, f"duplicate participant {pid}")
        seen.add(pid)
    participant_ids = [str(p) for p in participants.tolist()]
    groups: dict[str, int | None] = {}
    for pid, value, line in zip(
        participant_ids, table.column("group-id"), table.lines, strict=True
    ):
        groups[pid] = _optional_int(path, line, "group-id", value)
    for name in PARTICIPANT_COLUMNS[2:]:
        _int_values(table, name)
    return _ParticipantsVotes(table, participant_ids, groups, statement_columns)


def _optional_int(path: Path, line: int, name: str, value: str) -> int | None:
    if value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise PolisImportError(path, line, f"{name} is not an integer: {value!r}") from None


def _matrix_from_participants_votes(
    parsed: _ParticipantsVotes, comments: _Comments | None
) -> VoteMatrix:
    table = parsed.table
    columns = [str(int(c)) for c in parsed.statement_columns]
    if comments is not None:
        unknown = sorted(set(columns) - set(comments.ids), key=int)
        if unknown:
            raise PolisImportError(table.path, 1, f"unknown comment-id {unknown[0]}")
        statement_ids = _sorted_ids(set(comments.ids))
    else:
        statement_ids = _sorted_ids(set(columns))
    col_of = {s: i for i, s in enumerate(statement_ids)}
    positions = [table.header.index(c) for c in parsed.statement_columns]
    cells = np.asarray([[row[i] for i in positions] for row in table.rows], dtype=np.str_)
    cells = cells.reshape(len(table.rows), len(positions))
    present = np.char.strip(cells) != ""
    rows, which = np.nonzero(present)
    line_of_cell = [table.lines[r] for r in rows.tolist()]
    values = (
        _int_values(table, "vote", cells[rows, which].tolist(), line_of_cell) if rows.size else rows
    )
    if rows.size and not np.isin(values, (-1, 0, 1)).all():
        _check_votes(table, values, line_of_cell)
    column_index = np.asarray([col_of[c] for c in columns], dtype=np.int64)
    return VoteMatrix.from_arrays(
        rows,
        column_index[which] if rows.size else rows,
        values,
        participant_ids=parsed.participant_ids,
        statement_ids=statement_ids,
        moderated_out=comments.moderated_out if comments else (),
        meta=comments.meta if comments else (),
    )


def _read_summary(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {row[0]: row[1] if len(row) > 1 else "" for row in csv.reader(handle) if row}


def read_polis_export(folder: str | Path) -> PolisExport:
    """Read and validate a whole export folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PolisImportError(folder, 0, "not a folder")
    comments = _read_comments(folder / COMMENTS) if (folder / COMMENTS).exists() else None
    has_participants = (folder / PARTICIPANTS_VOTES).exists()
    participants = (
        _read_participants_votes(folder / PARTICIPANTS_VOTES) if has_participants else None
    )
    log = None
    if (folder / VOTES).exists():
        matrix, log = _matrix_from_votes_csv(folder / VOTES, comments)
        source: Literal["votes.csv", "participants-votes.csv"] = "votes.csv"
    elif participants is not None:
        matrix = _matrix_from_participants_votes(participants, comments)
        source = "participants-votes.csv"
    else:
        raise PolisImportError(folder, 0, f"neither {VOTES} nor {PARTICIPANTS_VOTES} found")
    return PolisExport(
        matrix=matrix,
        texts=dict(comments.texts) if comments else {},
        groups=dict(participants.groups) if participants else {},
        summary=_read_summary(folder / SUMMARY),
        votes_source=source,
        vote_log=log,
        statement_times=dict(comments.times) if comments else {},
    )


def export_math(export: PolisExport, era: PolisMath | None = None) -> PolisMath:
    """The version of Pol.is's math behind an export's groups.

    ``era`` when given; else the one in force at the export's last vote (the
    last update Pol.is computed); without a vote log, today's.
    """
    if era is not None:
        return era
    log = export.vote_log
    if log is None or log.seconds.size == 0:
        return CURRENT
    return polis_math_at(float(log.seconds.max()))


def analyze_polis_export(
    export: PolisExport, *, seed: int = 0, era: PolisMath | None = None
) -> OpinionResult:
    """One analysis of the final votes with the math of the export's era (:func:`export_math`)."""
    return analyze(
        export.matrix,
        seed=seed,
        math=export_math(export, era),
        moderated_at=export.statement_times or None,
    )


def replay_polis_export(
    export: PolisExport,
    *,
    seed: int = 0,
    max_updates: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    era: PolisMath | Callable[[float], PolisMath] | None = None,
) -> OpinionResult:
    """Recompute the groups along the export's vote history, as Pol.is did (see ``replay``).

    Each update follows the math Pol.is ran at its time, or ``era``: one
    version throughout, or a function of the update's time. Without a vote
    log (participants-votes only) this is one analysis with ``era`` (a
    version) or the current math.
    """
    if export.vote_log is None:
        return analyze_polis_export(
            export, seed=seed, era=era if isinstance(era, PolisMath) else None
        )
    return replay(
        **vote_history(export),
        max_updates=max_updates,
        seed=seed,
        math=era,
        moderated_at=export.statement_times or None,
        progress=progress,
    )


def vote_history(export: PolisExport) -> dict[str, Any]:
    """The export's vote log as the arguments of ``replay`` and ``update_matrices``."""
    log, matrix = export.vote_log, export.matrix
    if log is None:
        raise ValueError("the export has no vote log (votes.csv)")
    return {
        "ptpt_idx": log.ptpt_idx,
        "stmt_idx": log.stmt_idx,
        "vote": log.vote,
        "timestamps": log.seconds,
        "participant_ids": matrix.participant_ids,
        "statement_ids": matrix.statement_ids,
        "moderated_out": matrix.moderated_out,
        "meta": matrix.meta,
    }


def with_meta(export: PolisExport, statement_ids: Iterable[str]) -> PolisExport:
    """The export with ``statement_ids`` marked as Pol.is *meta* statements.

    Pol.is's math moderates meta statements out (demographic questions such as
    "I am between 15 and 19 years old" are voted on but do not place anyone on
    the opinion map), yet its CSV export has no ``is-meta`` column. Without
    it, an analysis of the export mixes those answers into the opinions; this
    puts the flag back. Raises ``ValueError`` naming the first unknown id given.
    """
    matrix = export.matrix
    known = set(matrix.statement_ids)
    given = list(statement_ids)
    unknown = next((sid for sid in given if sid not in known), None)
    if unknown is not None:
        raise ValueError(f"statement {unknown} is not in the export")
    meta = frozenset(given)
    marked = replace(matrix, moderated_out=matrix.moderated_out | meta, meta=matrix.meta | meta)
    return replace(export, matrix=marked)


def read_polis_groups(folder: str | Path) -> dict[str, int | None]:
    """Pol.is's own ``group-id`` per participant (None = not clustered by Pol.is)."""
    path = Path(folder) / PARTICIPANTS_VOTES
    if not path.exists():
        raise PolisImportError(path, 0, "file not found")
    return dict(_read_participants_votes(path).groups)


def _pol_is_datetime(timestamp_ms: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(timestamp_ms / 1000))


def write_polis_export(
    folder: str | Path,
    matrix: VoteMatrix,
    texts: Mapping[str, str],
    groups: Mapping[str, int | None],
    *,
    topic: str = "",
) -> None:
    """Write ``matrix`` as a Pol.is export folder that :func:`read_polis_export` reads back.

    Pol.is ids are integers, so every participant and statement id must be
    one. The vote log has one row per current vote with increasing
    timestamps, participant by participant, so reading it back gives the same
    matrix in the same order. Author ids and real timestamps are not known
    and are written as blank / synthetic.
    """
    for kind, ids in (("participant", matrix.participant_ids), ("statement", matrix.statement_ids)):
        bad = [i for i in ids if not i.lstrip("-").isdigit()]
        if bad:
            raise ValueError(f"Pol.is exports need integer {kind} ids, got {bad[0]!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows, cols, values = matrix.cells()
    _write_comments(folder / COMMENTS, matrix, texts, cols, values)
    _write_votes(folder / VOTES, matrix, rows, cols, values)
    _write_participants_votes(folder / PARTICIPANTS_VOTES, matrix, groups)
    _write_summary(folder / SUMMARY, matrix, groups, topic)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_comments(
    path: Path, matrix: VoteMatrix, texts: Mapping[str, str], cols: NDArray, values: NDArray
) -> None:
    n = matrix.shape[1]
    agrees = np.bincount(cols[values == 1], minlength=n).tolist()
    disagrees = np.bincount(cols[values == -1], minlength=n).tolist()
    rows = [
        [
            0,
            _pol_is_datetime(0),
            sid,
            "",
            agrees[j],
            disagrees[j],
            REJECTED if sid in matrix.moderated_out and sid not in matrix.meta else 1,
            texts.get(sid, ""),
            int(sid in matrix.meta),
        ]
        for j, sid in enumerate(matrix.statement_ids)
    ]
    _write_csv(path, COMMENTS_COLUMNS, rows)


def _write_votes(
    path: Path, matrix: VoteMatrix, rows: NDArray, cols: NDArray, values: NDArray
) -> None:
    pids, sids = matrix.participant_ids, matrix.statement_ids
    lines = [
        [t, _pol_is_datetime(t), sids[c], pids[r], v]
        for t, (r, c, v) in enumerate(
            zip(rows.tolist(), cols.tolist(), values.tolist(), strict=True)
        )
    ]
    _write_csv(path, VOTES_COLUMNS, lines)


def _write_participants_votes(
    path: Path, matrix: VoteMatrix, groups: Mapping[str, int | None]
) -> None:
    header = [*PARTICIPANT_COLUMNS, *matrix.statement_ids]
    indptr, indices, data = matrix.votes.indptr, matrix.votes.indices, matrix.votes.data
    rows = []
    for i, pid in enumerate(matrix.participant_ids):
        start, end = int(indptr[i]), int(indptr[i + 1])
        row_values = data[start:end]
        cells = [""] * matrix.shape[1]
        for j, v in zip(indices[start:end].tolist(), row_values.tolist(), strict=True):
            cells[j] = str(v)
        group = groups.get(pid)
        rows.append(
            [
                pid,
                "" if group is None else group,
                0,
                end - start,
                int((row_values == 1).sum()),
                int((row_values == -1).sum()),
                *cells,
            ]
        )
    _write_csv(path, header, rows)


def _write_summary(
    path: Path, matrix: VoteMatrix, groups: Mapping[str, int | None], topic: str
) -> None:
    participants = set(matrix.participant_ids)
    clustered = [g for p, g in groups.items() if g is not None and p in participants]
    rows = [
        ["topic", topic],
        ["voters", matrix.shape[0]],
        ["voters-in-conv", len(clustered)],
        ["comments", matrix.shape[1]],
        ["groups", len(set(clustered))],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
