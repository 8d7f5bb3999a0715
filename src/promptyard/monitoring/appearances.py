"""First appearances in live traffic: the moment a prompt version, or a model the provider
reported, was first seen in stored LLM spans (over all time, not only the range asked).

The one reading behind the Monitoring page's change markers (`traffic.change_markers`) and
the monitors' before/after reports (`changes.change_reports`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection


class ChangeKind(StrEnum):
    """What appeared in traffic."""

    PROMPT_VERSION = "prompt_version"
    RESPONSE_MODEL = "response_model"


# What is grouped: the column a new value appears in, and the one it is new within.
_VALUE = {ChangeKind.PROMPT_VERSION: "prompt_version", ChangeKind.RESPONSE_MODEL: "response_model"}
_SCOPES = {ChangeKind.PROMPT_VERSION: "prompt_name", ChangeKind.RESPONSE_MODEL: "request_model"}


@dataclass(frozen=True)
class Appearance:
    """`value` first seen at `first_ns` within `scope`; `earlier` are the values of the same
    scope first seen before it (oldest first): what traffic used before the change."""

    kind: ChangeKind
    scope: str | None  # the prompt; the requested model (None: over all requested models)
    value: Any  # the version number; the provider-reported model
    first_ns: int
    earlier: tuple[Any, ...]


def first_appearances(
    conn: Connection, kind: ChangeKind, since_ns: int, until_ns: int, *, scoped: bool = True
) -> list[Appearance]:
    """The values of `kind` whose first LLM span started in [since_ns, until_ns), oldest
    first, and only where traffic of the same scope already flowed: a prompt's first version
    (or the first model ever seen) is where traffic began, not a change.

    The scope of a version is its prompt; of a model, its requested model, or with
    `scoped=False` all traffic (the page marks a model new to the whole workspace).
    """
    value = _VALUE[kind]
    scope = _SCOPES[kind] if kind is ChangeKind.PROMPT_VERSION or scoped else None
    # Migration 025's hourly rollups hold each key's first start: a few rows per hour, not
    # one per span. A row's first start is the earliest span it ever counted (spans are
    # moved out of a row only when ingest fills in a child's missing prompt).
    none = "-1" if value == "prompt_version" else "''"
    present = f"{value} <> {none}"
    if scope:
        present += f" AND {scope} <> ''"
    keys = f"{scope}, {value}" if scope else f"NULL, {value}"
    groups = f"{scope}, {value}" if scope else value
    stmt = text(
        f"SELECT {keys}, MIN(first_ns) FROM span_rollup WHERE calls > 0 AND {present}"
        f" GROUP BY {groups}"
    )
    by_scope: dict[str | None, list[tuple[int, Any]]] = {}
    for key, seen, first in conn.execute(stmt):
        by_scope.setdefault(key, []).append((int(first), seen))
    found = []
    for key, firsts in by_scope.items():
        ordered = sorted(firsts)
        for n, (first, seen) in enumerate(ordered):
            if n and since_ns <= first < until_ns:
                earlier = tuple(v for _, v in ordered[:n])
                found.append(Appearance(kind, key, seen, first, earlier))
    return sorted(found, key=lambda a: (a.first_ns, str(a.scope), str(a.value)))
