"""Change markers and top consumers for the Monitoring page.

A change marker is the first moment a prompt version, or a model the provider reported,
appeared in stored LLM traffic (over all time, not only the range looked at;
`appearances.first_appearances`): the charts draw a vertical line there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pandas as pd

from promptyard.monitoring.appearances import ChangeKind, first_appearances
from promptyard.monitoring.metrics import has_table
from promptyard.monitoring.rollups import consumer_sums
from promptyard.storage import get_engine
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class ChangeMarker:
    """`label` (e.g. "summarize v3" or "gpt-4o-2024-08-06") first seen at `at` (UTC)."""

    kind: ChangeKind
    label: str
    at: datetime
    at_ns: int


def _url(ws: Workspace | str) -> str:
    return ws if isinstance(ws, str) else ws.database_url


def change_markers(ws: Workspace | str, since_ns: int, until_ns: int) -> list[ChangeMarker]:
    """The prompt versions and provider-reported models whose first LLM span started in
    [since_ns, until_ns), oldest first. A version seen before the range is no marker, nor
    is a prompt's first version or the first model ever seen (traffic began there)."""
    engine = get_engine(_url(ws))
    with engine.connect() as conn:
        if not has_table(conn, "span"):
            return []
        versions = first_appearances(conn, ChangeKind.PROMPT_VERSION, since_ns, until_ns)
        models = first_appearances(
            conn, ChangeKind.RESPONSE_MODEL, since_ns, until_ns, scoped=False
        )
    markers = [_marker(a.kind, f"{a.scope} v{a.value}", a.first_ns) for a in versions]
    markers += [_marker(a.kind, str(a.value), a.first_ns) for a in models]
    return sorted(markers, key=lambda m: (m.at_ns, m.kind, m.label))


def _marker(kind: ChangeKind, label: str, first_ns: int) -> ChangeMarker:
    at = pd.Timestamp(int(first_ns), unit="ns", tz="UTC").to_pydatetime()
    return ChangeMarker(kind=kind, label=label, at=at, at_ns=int(first_ns))


class ConsumerKind(StrEnum):
    """Who consumes: an end user (user.id) or a service (service.name)."""

    USER = "user"
    SERVICE = "service"


CONSUMER_COLUMNS = [
    "kind", "consumer", "calls", "input_tokens", "output_tokens", "tokens",
    "cost_usd", "cost_unknown", "share_of_cost",
]  # fmt: skip


def top_consumers(
    ws: Workspace | str, since_ns: int, until_ns: int, limit: int = 10
) -> pd.DataFrame:
    """Users and services ranked by known cost, then tokens, over [since_ns, until_ns):
    the top `limit` of each kind, with CONSUMER_COLUMNS. `share_of_cost` is of the known
    cost of that kind; spans without a user (or service) are one "(none)" row."""
    engine = get_engine(_url(ws))
    frames = []
    with engine.connect() as conn:
        if not has_table(conn, "span"):
            return pd.DataFrame(columns=CONSUMER_COLUMNS)
        # Migration 025's rollups: one row per hour and user (or service), not per span.
        sums = {
            kind: consumer_sums(conn, kind is ConsumerKind.USER, since_ns, until_ns)
            for kind in ConsumerKind
        }
    for kind, df in sums.items():
        if df.empty:
            continue
        df["kind"] = str(kind)
        df["tokens"] = df["input_tokens"].fillna(0) + df["output_tokens"].fillna(0)
        known = df["cost_usd"].sum(min_count=1)
        df["share_of_cost"] = df["cost_usd"] / known if pd.notna(known) and known else None
        df = df.sort_values(
            ["cost_usd", "tokens", "consumer"],
            ascending=[False, False, True],
            na_position="last",
            ignore_index=True,
        )
        frames.append(df.head(limit))
    if not frames:
        return pd.DataFrame(columns=CONSUMER_COLUMNS)
    return pd.concat(frames, ignore_index=True)[CONSUMER_COLUMNS]
