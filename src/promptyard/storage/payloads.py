"""A cell's payload (its row's inputs and reference, its rendered messages), wherever it is.

Since m024 a run's rows live once per run and row in `run_row`, its rendered prompts once
per template group and row in `run_message`, and a new cell stores '' in its own
`inputs_json` and `messages_json` (NULL in `reference`). Cells written before keep their
own copies. This module is the one place that knows both: `payload_sql` gives the SQL
that reads a cell's payload (for text queries), `payload_columns` the same as Core columns,
`fill_payloads` puts it on ORM `Cell` objects, and `claimed_messages` finds the messages of
a claimed batch. A cell is of the new kind when its own `messages_json` is '' (an old
cell's is always a JSON list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
    bindparam,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from promptyard.storage.handles import MESSAGE, ROW, VARIANT

T = TypeVar("T")
UNSTORED = ""  # a new cell's own inputs_json and messages_json: its run's rows hold them
_CHUNK = 500  # ids per IN list (SQLite allows 32,766 variables; PostgreSQL many more)
_RANGE_MIN = 8  # rows of one run (and prompt) worth a range read rather than lookups


@dataclass(frozen=True)
class PayloadSQL:
    """SQL expressions for one cell alias: its inputs (JSON), reference, messages (JSON)."""

    inputs: str
    reference: str
    messages: str


def payload_sql(alias: str = "cell") -> PayloadSQL:
    """The SQL that reads the payload of the cell named `alias` in the query's FROM, for
    cells of either kind (correlated lookups by the run row's and template's keys)."""
    own = f"{alias}.messages_json <> ''"

    def row(column: str) -> str:
        return (
            f"(SELECT pr.{column} FROM run_row pr WHERE pr.run_id = {alias}.run_id"
            f" AND pr.row_index = {alias}.row_index)"
        )

    message = (
        "(SELECT pm.messages_json FROM run_message pm JOIN variant pv"
        f" ON pv.id = {alias}.variant_id WHERE pm.run_id = {alias}.run_id"
        f" AND pm.template = pv.template AND pm.row_index = {alias}.row_index)"
    )
    return PayloadSQL(
        inputs=f"(CASE WHEN {own} THEN {alias}.inputs_json ELSE {row('inputs_json')} END)",
        reference=f"(CASE WHEN {own} THEN {alias}.reference ELSE {row('reference')} END)",
        messages=f"(CASE WHEN {own} THEN {alias}.messages_json ELSE {message} END)",
    )


class PayloadColumns(NamedTuple):
    """Core columns of one cell alias's payload (see `payload_columns`)."""

    inputs: ColumnElement[Any]
    reference: ColumnElement[Any]
    messages: ColumnElement[Any]


def payload_columns(cell: FromClause, prefix: str = "") -> PayloadColumns:
    """Core columns of the payload of `cell` (the table or an alias in the query's FROM),
    labelled `{prefix}inputs_json`, `{prefix}reference` and `{prefix}messages_json`."""
    sql = payload_sql(cell.name)  # type: ignore[attr-defined]
    return PayloadColumns(
        literal_column(sql.inputs).label(f"{prefix}inputs_json"),
        literal_column(sql.reference).label(f"{prefix}reference"),
        literal_column(sql.messages).label(f"{prefix}messages_json"),
    )


def payload_search_sql(alias: str, needle: str, params: dict[str, Any], *columns: str) -> str:
    """A condition: the inputs or the reference of the cell `alias`, or one of its
    `columns`, contain `needle` (lower case; compared case-blind). Sets the pattern in
    `params["q"]`. A new cell's row is tested in run_row once per query, not once per cell
    (the subquery is uncorrelated)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params["q"] = f"%{escaped}%"

    def like(expr: str) -> str:
        return f"lower(COALESCE({expr}, '')) LIKE :q ESCAPE '\\'"

    found = [like(c) for c in (*columns, f"{alias}.inputs_json", f"{alias}.reference")]
    found.append(
        f"({alias}.messages_json = '' AND ({alias}.run_id, {alias}.row_index) IN"
        f" (SELECT sr.run_id, sr.row_index FROM run_row sr"
        f" WHERE {like('sr.inputs_json')} OR {like('sr.reference')}))"
    )
    return f"({' OR '.join(found)})"


def fill_payloads(s: Session, cells: Iterable[Any]) -> None:
    """Put the stored payload on ORM `Cell` objects of the new kind (as loaded values, so
    the session never writes them back); cells with their own copies are left as they are.
    Each run row and rendered prompt is read once, however many cells share it."""
    todo = [c for c in cells if c.messages_json == UNSTORED]
    if not todo:
        return
    groups: dict[int, int | None] = {}
    for part in _chunks(sorted({c.variant_id for c in todo})):
        found = s.execute(select(VARIANT.c.id, VARIANT.c.template).where(VARIANT.c.id.in_(part)))
        groups.update({r[0]: r[1] for r in found})
    rows: dict[tuple[int, int], tuple[str, str | None]] = {}
    wanted_rows = {(c.run_id, c.row_index) for c in todo}
    for r in _read_by_row(s, ROW, ("run_id",), ("inputs_json", "reference"), wanted_rows):
        rows[(r[0], r[1])] = (r[2], r[3])
    messages: dict[tuple[int, int | None, int], str] = {}
    wanted = {(c.run_id, groups.get(c.variant_id), c.row_index) for c in todo}
    known = {k for k in wanted if k[1] is not None}
    for r in _read_by_row(s, MESSAGE, ("run_id", "template"), ("messages_json",), known):
        messages[(r[0], r[1], r[2])] = r[3]
    for c in todo:
        inputs, reference = rows.get((c.run_id, c.row_index), ("{}", None))
        set_committed_value(c, "inputs_json", inputs)
        set_committed_value(c, "reference", reference)
        shared = messages.get((c.run_id, groups.get(c.variant_id), c.row_index), "[]")
        set_committed_value(c, "messages_json", shared)


def _read_by_row(
    s: Session,
    table: Any,
    prefix: tuple[str, ...],
    columns: tuple[str, ...],
    keys: set[tuple[Any, ...]],
) -> Iterator[Sequence[Any]]:
    """Rows of `table` (prefix columns, row_index, then `columns`) for `keys` (prefix
    values then row index). A page of cells wants rows close together: where the rows
    asked for fill at least half of their span, the span is read as one range of the
    primary key; scattered rows are looked up by key, a list at a time."""
    by_prefix: dict[tuple[Any, ...], list[int]] = {}
    for key in keys:
        by_prefix.setdefault(key[:-1], []).append(key[-1])
    selected = [table.c[name] for name in (*prefix, "row_index", *columns)]
    scattered: list[tuple[Any, ...]] = []
    for values, indexes in by_prefix.items():
        indexes.sort()
        low, high = indexes[0], indexes[-1]
        if len(indexes) < _RANGE_MIN or high - low + 1 > 2 * len(indexes):
            scattered += [(*values, i) for i in indexes]
            continue
        match = [table.c[name] == v for name, v in zip(prefix, values, strict=True)]
        yield from s.execute(select(*selected).where(*match, table.c.row_index.between(low, high)))
    in_key = tuple_(*(table.c[name] for name in (*prefix, "row_index")))
    for part in _chunks(sorted(scattered)):
        yield from s.execute(select(*selected).where(in_key.in_(part)))


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def claimed_messages(
    s: Session, run_id: int, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """The rendered messages of claimed cells by (variant id, row index), for `keys`: one
    primary-key lookup per template group and row (a resumed run's few failed cells may be
    rows far apart, so no range is scanned)."""
    if not keys:
        return {}
    found = s.execute(
        text(
            """SELECT v.id, m.row_index, m.messages_json FROM variant v
            JOIN run_message m ON m.run_id = v.run_id AND m.template = v.template
            WHERE v.run_id = :run AND v.id IN :variants AND m.row_index IN :rows"""
        ).bindparams(bindparam("variants", expanding=True), bindparam("rows", expanding=True)),
        {
            "run": run_id,
            "variants": sorted({k[0] for k in keys}),
            "rows": sorted({k[1] for k in keys}),
        },
    )
    return {(r[0], r[1]): r[2] for r in found}
