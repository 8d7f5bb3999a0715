"""Line diffs laid out side by side, for people to read (git holds the real history)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; `kind` is equal, changed, added or removed, or
    skipped: a run of unchanged lines left out (`left` says how many)."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Rows pairing the lines of `old` and `new`, changed lines marked."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("equal", i + 1, a[i], j + 1, b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            li = left[k] if k < len(left) else None
            rj = right[k] if k < len(right) else None
            kind = (
                "changed"
                if li is not None and rj is not None
                else ("removed" if rj is None else "added")
            )
            rows.append(
                DiffRow(
                    kind,
                    li + 1 if li is not None else None,
                    a[li] if li is not None else "",
                    rj + 1 if rj is not None else None,
                    b[rj] if rj is not None else "",
                )
            )
    return rows


SKIPPED = "skipped"


def with_context(rows: list[DiffRow], context: int = 3) -> list[DiffRow]:
    """The changed rows with `context` unchanged rows around each; every longer run of
    unchanged rows becomes one `skipped` row saying how many lines it stands for.
    With no change at all, every row is kept."""
    changed = [i for i, row in enumerate(rows) if row.kind != "equal"]
    if not changed:
        return list(rows)
    keep: set[int] = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    out: list[DiffRow] = []
    run = 0
    for i, row in enumerate(rows):
        if i in keep:
            if run:
                out.append(_skipped(run))
                run = 0
            out.append(row)
        else:
            run += 1
    if run:
        out.append(_skipped(run))
    return out


def _skipped(n: int) -> DiffRow:
    text = f"⋯ {n} unchanged line{'s' if n != 1 else ''}"
    return DiffRow(SKIPPED, None, text, None, text)


def diff_stats(rows: list[DiffRow]) -> dict[str, int]:
    """How many rows of each kind (equal, changed, added, removed); skipped rows count
    the equal lines they stand for."""
    stats = {"equal": 0, "changed": 0, "added": 0, "removed": 0}
    for row in rows:
        if row.kind == SKIPPED:
            stats["equal"] += int(row.left.split()[1])
        else:
            stats[row.kind] += 1
    return stats
