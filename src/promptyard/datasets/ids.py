"""Row identity: every row has a stable string `id`, and versions are compared by id.

Ids come from an id column when the data has one; otherwise they are derived from the
row's content and kept for unchanged (or edited-in-place) rows when data is imported again.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promptyard.datasets.table import ID, DatasetError, ParsedTable, Row


@dataclass(frozen=True)
class Change:
    """What changed between two versions, by row id."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        """`+3 added, -1 removed, ~2 changed`, or `no row changes`."""
        parts = []
        if self.added:
            parts.append(f"+{len(self.added)} added")
        if self.removed:
            parts.append(f"-{len(self.removed)} removed")
        if self.changed:
            parts.append(f"~{len(self.changed)} changed")
        return ", ".join(parts) or "no row changes"

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
            "added_ids": list(self.added),
            "removed_ids": list(self.removed),
            "changed_ids": list(self.changed),
        }


_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode


_SORTED_NAMES: dict[tuple[str, ...], tuple[list[str], str]] = {}


def content_key(row: Mapping[str, Any]) -> str:
    """The row's content without its id, as one string (the same for equal content).

    Text-only rows (every CSV row) take a fast path: the sorted column names, then the
    values joined by a separator; anything else is canonical JSON.
    """
    names = tuple(row)
    cached = _SORTED_NAMES.get(names)
    if cached is None:
        ordered = sorted(k for k in names if k != ID)
        cached = (ordered, "\x1e".join(ordered))
        if len(_SORTED_NAMES) < 1000:
            _SORTED_NAMES[names] = cached
    ordered, signature = cached
    values = [row[k] for k in ordered]
    if all(type(v) is str for v in values):
        joined = "\x1f".join(values)
        if joined.count("\x1f") == len(values) - 1:
            return signature + "\x1d" + joined
    return _canonical({k: row[k] for k in ordered})


def derived_id(key: str) -> str:
    """An id made from a row's content: `r` + 10 hex digits of its SHA-1."""
    return "r" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def assign_ids(
    rows: Sequence[Row], previous: Sequence[Row] | None = None, *, taken: Iterable[str] = ()
) -> list[Row]:
    """Rows with an `id` first, kept stable across imports of the same data.

    A row equal to a previous row keeps its id. A row that replaces a previous row at the
    same place (between the same unchanged neighbours) keeps that row's id, so an edit
    shows up as "changed". Any other row gets an id derived from its content, so the same
    data gets the same ids even without a previous version; duplicate rows get `-2`,
    `-3`, ... appended. Ids in `taken` are never handed out.
    """
    old_rows = list(previous or ())
    old_ids = [str(r[ID]) if r.get(ID) is not None else None for r in old_rows]
    reuse: dict[str, deque[int]] = {}
    for index, old in enumerate(old_rows):
        if old_ids[index] is not None:
            reuse.setdefault(content_key(old), deque()).append(index)
    keys = [content_key(row) for row in rows]
    matched: list[int | None] = []  # new row -> index of the previous row it keeps
    old_used = [False] * len(old_rows)
    for key in keys:
        queue = reuse.get(key)
        if queue:
            index = queue.popleft()
            old_used[index] = True
            matched.append(index)
        else:
            matched.append(None)
    _pair_replaced(rows, old_rows, matched, old_used, old_ids)
    blocked = set(taken) | {i for i in old_ids if i is not None}
    used: set[str] = set()
    result: list[Row] = []
    for row, key, old_index in zip(rows, keys, matched, strict=True):
        if old_index is not None:
            new_id = old_ids[old_index] or ""
        else:
            base = derived_id(key)
            new_id, n = base, 1
            while new_id in used or new_id in blocked:
                n += 1
                new_id = f"{base}-{n}"
        used.add(new_id)
        result.append({ID: new_id, **{k: v for k, v in row.items() if k != ID}})
    return result


def _shared_fields(a: Row, b: Row) -> int:
    return sum(1 for k, v in a.items() if k != ID and v not in (None, "") and b.get(k) == v)


def _pair_replaced(
    rows: Sequence[Row],
    old_rows: Sequence[Row],
    matched: list[int | None],
    old_used: list[bool],
    old_ids: list[str | None],
) -> None:
    """Pair unmatched new rows with unmatched previous rows that sit in the same gap.

    A gap is the stretch after the same kept row in both versions. Within a gap a new row
    pairs with the previous row sharing the most field values (at least one), as an edit
    of that row. Linear in the number of rows when gaps are small.
    """
    new_gaps: dict[int, list[int]] = {}
    anchor = -1
    for new_index, old_index in enumerate(matched):
        if old_index is None:
            new_gaps.setdefault(anchor, []).append(new_index)
        else:
            anchor = old_index
    if not new_gaps:
        return
    old_gaps: dict[int, list[int]] = {}
    anchor = -1
    for old_index, used in enumerate(old_used):
        if used:
            anchor = old_index
        elif old_ids[old_index] is not None:
            old_gaps.setdefault(anchor, []).append(old_index)
    for gap, new_indexes in new_gaps.items():
        candidates = old_gaps.get(gap, [])
        if not candidates:
            continue
        if len(new_indexes) * len(candidates) > 10_000:  # a big rewrite: pair in order
            pairs = zip(new_indexes, candidates, strict=False)
            for new_index, old_index in pairs:
                if _shared_fields(rows[new_index], old_rows[old_index]):
                    matched[new_index] = old_index
            continue
        free = list(candidates)
        for new_index in new_indexes:
            scores = [_shared_fields(rows[new_index], old_rows[o]) for o in free]
            if scores and max(scores) > 0:
                matched[new_index] = free.pop(scores.index(max(scores)))


def _where(table: ParsedTable | None, index: int) -> dict[str, Any]:
    if table is None:
        return {"line": index + 1}
    if table.lines:
        return {"source": table.source, "line": table.lines[index]}
    return {"source": f"{table.source}, item {index + 1}"}


def ids_from_column(
    rows: list[Row], id_column: str, table: ParsedTable | None, source: str
) -> list[Row]:
    """Rows with `id` first, taken from `id_column` (renamed to `id`).

    A blank or duplicate id is a DatasetError naming the line of the row.
    """
    values = [row.get(id_column) for row in rows]
    if all(type(v) is str for v in values):
        texts = [v.strip() for v in values]  # type: ignore[union-attr]
    else:
        texts = ["" if v is None else str(v).strip() for v in values]
    if not all(texts) or len(set(texts)) != len(texts):
        _raise_id_error(texts, id_column, table, source)
    result: list[Row] = []
    append = result.append
    for text, row in zip(texts, rows, strict=True):
        new = {ID: text}
        new.update(row)
        new[ID] = text
        if id_column != ID:
            del new[id_column]
        append(new)
    return result


def _raise_id_error(
    texts: list[str], id_column: str, table: ParsedTable | None, source: str
) -> None:
    seen: dict[str, int] = {}
    for index, text in enumerate(texts):
        where = _where(table, index) if table else {"source": source, "line": index + 1}
        if not text:
            raise DatasetError(f"the {id_column!r} of this row is blank", field=id_column, **where)
        if text in seen:
            first_where = _where(table, seen[text]) if table else {"line": seen[text] + 1}
            also = f"line {first_where['line']}" if "line" in first_where else first_where["source"]
            raise DatasetError(
                f"duplicate {id_column!r} {text!r} (also on {also})", field=id_column, **where
            )
        seen[text] = index


def check_ids(rows: Sequence[Row], source: str) -> None:
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        value = row.get(ID)
        text = "" if value is None else str(value).strip()
        if not text:
            raise DatasetError("the id of this row is blank", source=source, line=number, field=ID)
        if text in seen:
            raise DatasetError(f"duplicate id {text!r}", source=source, line=number, field=ID)
        seen.add(text)


def changes_between(old: Sequence[Row], new: Sequence[Row]) -> Change:
    """Rows added, removed and changed from `old` to `new`, matched by id."""
    old_by_id = {str(row.get(ID)): row for row in old}
    new_by_id = {str(row.get(ID)): row for row in new}
    added = tuple(i for i in new_by_id if i not in old_by_id)
    removed = tuple(i for i in old_by_id if i not in new_by_id)
    changed = tuple(i for i, row in new_by_id.items() if i in old_by_id and old_by_id[i] != row)
    return Change(added, removed, changed)
