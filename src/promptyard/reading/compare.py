"""The side-by-side view of runs: a paged grid of rows x variants, diffs and repeats.

Paging happens in SQL on distinct row ids (LIMIT/OFFSET over `GROUP BY row_id`), so the
first page of a 10,000-row run costs one grouped scan and a handful of indexed lookups,
never a pass in pandas over the whole run.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import col, select

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.stats import majority_share
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads, payload_search_sql
from promptyard.storage.tables import Cell, CellStatus, Rating, Run, Score, Variant
from promptyard.workspace import Workspace

PAGE_SIZES = (10, 20, 50, 100)
MAX_DIFF_TOKENS = 4000
RATED_FILTERS = ("any", "rated", "unrated")
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Column:
    """One variant as a grid column."""

    variant_id: int
    run_id: int
    position: int
    prompt_name: str
    prompt_version: int | None
    prompt_sha: str | None
    model: str
    label: str


@dataclass(frozen=True)
class Segment:
    """A piece of a word diff: `kind` is same, added or removed."""

    text: str
    kind: str


@dataclass(frozen=True)
class RatingSummary:
    """The ratings in force of one cell under one scheme."""

    scheme: str
    count: int
    mean_score: float | None
    values: dict[str, Any]  # rater -> value


@dataclass
class GridCell:
    """One model call as the grid shows it, with its scores, ratings and repeats."""

    cell_id: int
    variant_id: int
    repeat: int
    status: str
    output: str | None
    error_kind: str | None
    error_message: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float | None
    cached: bool
    attempts: int
    scores: dict[str, float | None] = field(default_factory=dict)
    passed: dict[str, bool | None] = field(default_factory=dict)
    ratings: dict[str, RatingSummary] = field(default_factory=dict)
    mine: dict[str, Any] = field(default_factory=dict)  # scheme -> the given rater's value
    repeats: list[GridCell] = field(default_factory=list)  # repeat 1.. of this cell
    agreement: float | None = None  # share of repeats giving the most common output
    diff: list[Segment] | None = None  # word diff from the baseline column
    tool_calls: list[dict[str, Any]] | None = None  # the tools the model called (OpenAI format)

    @property
    def is_error(self) -> bool:
        return self.status == CellStatus.ERROR


@dataclass
class GridRow:
    """One dataset row across the columns."""

    row_id: str
    row_index: int
    inputs: dict[str, Any]
    reference: str | None
    cells: dict[int, GridCell]  # variant id -> the repeat-0 cell (with its repeats)


@dataclass
class GridFilters:
    """Which rows to show. Every filter narrows; the defaults show every row."""

    errors_only: bool = False
    differ_only: bool = False  # rows whose columns gave different outputs
    rated: str = "any"  # any, rated, unrated
    low_rated: bool = False  # rows with a rating scored at or under low_threshold
    low_threshold: float = 0.5
    scheme: str | None = None  # restrict rated/unrated/low-rated to one scheme
    search: str = ""  # in inputs, outputs, reference and row id (case-insensitive)


@dataclass
class GridPage:
    """One page of the grid: its columns, rows, and where it sits among all pages."""

    columns: list[Column]
    rows: list[GridRow]
    total_rows: int
    page: int
    page_size: int
    baseline: int | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_rows // self.page_size))


def word_diff(base: str | None, other: str | None) -> list[Segment] | None:
    """Word-level differences turning `base` into `other` (None when too long to diff)."""
    a, b = _TOKEN.findall(base or ""), _TOKEN.findall(other or "")
    if len(a) > MAX_DIFF_TOKENS or len(b) > MAX_DIFF_TOKENS:
        return None
    out: list[Segment] = []

    def push(tokens: list[str], kind: str) -> None:
        if not tokens:
            return
        piece = "".join(tokens)
        if out and out[-1].kind == kind:
            out[-1] = Segment(out[-1].text + piece, kind)
        else:
            out.append(Segment(piece, kind))

    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            push(b[j1:j2], "same")
        else:
            push(a[i1:i2], "removed")
            push(b[j1:j2], "added")
    return out


# --- the grid --------------------------------------------------------------------------


def columns_for(ws: Workspace, run_ids: Sequence[int]) -> list[Column]:
    """The variants of the runs as columns, run by run in position order.

    Two runs must be over the same dataset: rows are matched by their row id."""
    if not run_ids:
        raise PromptyardError("pick a run to compare")
    with db.session(ws) as s:
        runs = []
        for run_id in run_ids:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFoundError(f"run {run_id} does not exist")
            runs.append(run)
        datasets = {r.dataset_name for r in runs}
        if len(datasets) > 1:
            names = " and ".join(f"run {r.id} ({r.dataset_name or 'no dataset'})" for r in runs)
            raise PromptyardError(f"cannot compare {names}: they are over different datasets")
        variants = s.exec(
            select(Variant)
            .where(col(Variant.run_id).in_(list(run_ids)))
            .order_by(col(Variant.run_id), col(Variant.position))
        ).all()
    prefix = len(run_ids) > 1
    return [
        Column(
            variant_id=int(v.id or 0),
            run_id=v.run_id,
            position=v.position,
            prompt_name=v.prompt_name,
            prompt_version=v.prompt_version,
            prompt_sha=v.prompt_sha,
            model=v.model,
            label=(f"#{v.run_id} " if prefix else "") + v.label,
        )
        for v in variants
    ]


def _filter_sql(filters: GridFilters, params: dict[str, Any]) -> str:
    having = []
    if filters.errors_only:
        having.append("SUM(CASE WHEN c.status = 'error' THEN 1 ELSE 0 END) > 0")
    if filters.differ_only:
        having.append("COUNT(DISTINCT CASE WHEN c.repeat = 0 THEN COALESCE(c.output, '') END) > 1")
    scheme = ""
    if filters.scheme:
        scheme = " AND r.scheme = :scheme"
        params["scheme"] = filters.scheme
    if filters.rated not in RATED_FILTERS:
        raise PromptyardError(
            f"unknown rated filter {filters.rated!r}: use {', '.join(RATED_FILTERS)}"
        )
    rated = (
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM rating r WHERE r.cell_id = c.id"
        f" AND r.superseded_by IS NULL{scheme}) THEN 1 ELSE 0 END)"
    )
    if filters.rated == "rated":
        having.append(f"{rated} > 0")
    elif filters.rated == "unrated":
        having.append(f"{rated} = 0")
    if filters.low_rated:
        params["low"] = filters.low_threshold
        having.append(
            "SUM(CASE WHEN EXISTS (SELECT 1 FROM rating r WHERE r.cell_id = c.id"
            f" AND r.superseded_by IS NULL AND r.score IS NOT NULL AND r.score <= :low{scheme})"
            " THEN 1 ELSE 0 END) > 0"
        )
    needle = filters.search.strip().lower()
    if needle:
        match = payload_search_sql("c", needle, params, "c.output", "c.row_id")
        having.append(f"SUM(CASE WHEN {match} THEN 1 ELSE 0 END) > 0")
    return (" HAVING " + " AND ".join(having)) if having else ""


def _row_page(
    ws: Workspace, run_ids: Sequence[int], filters: GridFilters, limit: int, offset: int
) -> tuple[list[tuple[str, int]], int]:
    params: dict[str, Any] = {"runs": list(run_ids), "limit": limit, "offset": offset}
    base = (
        "SELECT c.row_id AS row_id, MIN(c.row_index) AS ri FROM cell c"
        " WHERE c.run_id IN :runs GROUP BY c.row_id" + _filter_sql(filters, params)
    )
    page_sql = text(base + " ORDER BY ri, row_id LIMIT :limit OFFSET :offset").bindparams(
        bindparam("runs", expanding=True)
    )
    count_sql = text(f"SELECT COUNT(*) FROM ({base}) AS grouped").bindparams(
        bindparam("runs", expanding=True)
    )
    with db.session(ws) as s:
        rows = [(str(r[0]), int(r[1])) for r in s.connection().execute(page_sql, params)]
        total = int(s.connection().execute(count_sql, params).scalar_one())
    return rows, total


def _grid_cell(c: Cell) -> GridCell:
    return GridCell(
        cell_id=int(c.id or 0),
        variant_id=c.variant_id,
        repeat=c.repeat,
        status=c.status,
        output=c.output,
        error_kind=c.error_kind,
        error_message=c.error_message,
        prompt_tokens=c.prompt_tokens,
        completion_tokens=c.completion_tokens,
        cost_usd=c.cost_usd,
        latency_ms=c.latency_ms,
        cached=bool(c.cached),
        attempts=c.attempts,
        tool_calls=json.loads(c.tool_calls_json) if c.tool_calls_json else None,
    )


def grid_page(
    ws: Workspace,
    run_ids: Sequence[int],
    page: int = 0,
    page_size: int = 20,
    filters: GridFilters | None = None,
    baseline: int | None = None,
    rater: str | None = None,
) -> GridPage:
    """One page of the comparison grid: rows (dataset order) x variant columns.

    Each cell carries its output, tokens, cost, latency, error, scores, ratings (and
    `rater`'s own values), its repeats with how often they agree, and, when `baseline`
    names a column, the word diff of its output from that column's.
    """
    filters = filters or GridFilters()
    page_size = max(1, min(int(page_size), 500))
    columns = columns_for(ws, run_ids)
    if baseline is not None and baseline not in {c.variant_id for c in columns}:
        raise PromptyardError(f"baseline column {baseline} is not a variant of these runs")
    page = max(0, int(page))
    row_keys, total = _row_page(ws, run_ids, filters, page_size, page * page_size)
    if not row_keys and page > 0 and total:
        page = (total - 1) // page_size
        row_keys, total = _row_page(ws, run_ids, filters, page_size, page * page_size)
    cells, scores, ratings = _load_cells(ws, [c.variant_id for c in columns], row_keys)
    views = {int(c.id or 0): _grid_cell(c) for c in cells}
    for sc in scores:
        view = views.get(sc.cell_id)
        if view is not None:  # a failed verdict (of any suite) stays failed
            failed = view.passed.get(sc.name) is False
            view.scores[sc.name] = sc.value
            view.passed[sc.name] = False if failed else sc.passed
    _attach_ratings(views, ratings, rater)
    rows = _assemble_rows(row_keys, cells, views)
    if baseline is not None:
        for row in rows:
            base = row.cells.get(baseline)
            for variant_id, view in row.cells.items():
                if variant_id != baseline and base is not None and not view.is_error:
                    view.diff = word_diff(base.output, view.output)
    return GridPage(columns, rows, total, page, page_size, baseline)


def _load_cells(
    ws: Workspace, variant_ids: list[int], row_keys: list[tuple[str, int]]
) -> tuple[list[Cell], list[Score], list[Rating]]:
    """The cells of these rows and columns, their scores and their ratings in force."""
    row_ids = [r for r, _ in row_keys]
    if not row_ids:
        return [], [], []
    with db.session(ws) as s:
        cells = list(
            s.exec(
                select(Cell).where(
                    col(Cell.variant_id).in_(variant_ids), col(Cell.row_id).in_(row_ids)
                )
            ).all()
        )
        fill_payloads(s, cells)
        cell_ids = [c.id for c in cells]
        scores = list(s.exec(select(Score).where(col(Score.cell_id).in_(cell_ids))).all())
        ratings = list(
            s.exec(
                select(Rating).where(
                    col(Rating.cell_id).in_(cell_ids), col(Rating.superseded_by).is_(None)
                )
            ).all()
        )
    return cells, scores, ratings


def _assemble_rows(
    row_keys: list[tuple[str, int]], cells: list[Cell], views: dict[int, GridCell]
) -> list[GridRow]:
    """Rows in page order, each holding per column its repeat-0 cell with its repeats."""
    rows: dict[str, GridRow] = {
        row_id: GridRow(row_id, ri, {}, None, {}) for row_id, ri in row_keys
    }
    grouped: dict[tuple[str, int], list[tuple[Cell, GridCell]]] = defaultdict(list)
    for c in cells:
        grouped[(c.row_id, c.variant_id)].append((c, views[int(c.id or 0)]))
        row = rows[c.row_id]
        if not row.inputs:
            row.inputs = json.loads(c.inputs_json or "{}")
        if row.reference is None:
            row.reference = c.reference
    for (row_id, variant_id), members in grouped.items():
        members.sort(key=lambda m: m[0].repeat)
        head = members[0][1]
        head.repeats = [m[1] for m in members[1:]]
        if head.repeats:
            head.agreement = repeat_agreement([m[1].output for m in members])
        rows[row_id].cells[variant_id] = head
    return list(rows.values())


def _attach_ratings(views: dict[int, GridCell], ratings: list[Rating], rater: str | None) -> None:
    per: dict[tuple[int, str], list[Rating]] = defaultdict(list)
    for r in ratings:
        per[(r.cell_id, r.scheme)].append(r)
    who = (rater or "").strip()
    for (cell_id, scheme), group in per.items():
        view = views.get(cell_id)
        if view is None:
            continue
        scored = [r.score for r in group if r.score is not None]
        view.ratings[scheme] = RatingSummary(
            scheme,
            len(group),
            sum(scored) / len(scored) if scored else None,
            {r.rater: json.loads(r.value_json) for r in group},
        )
        for r in group:
            if who and r.rater == who:
                view.mine[scheme] = json.loads(r.value_json)


def repeat_agreement(outputs: Sequence[str | None]) -> float:
    """The share of repeats that gave the most common output (stripped)."""
    return majority_share(Counter((o or "").strip() for o in outputs))
