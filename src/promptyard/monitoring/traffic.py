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
from sqlalchemy import text

from promptyard.monitoring.appearances import ChangeKind, first_appearances
from promptyard.monitoring.metrics import NO_SEGMENT, has_table
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
    # One pass over the range grouped by (user, service); each kind is summed up from it.
    stmt = text(
        "SELECT user_id, service_name, COUNT(*), SUM(input_tokens), SUM(output_tokens),"
        " SUM(cost_usd), SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END)"
        " FROM span WHERE is_llm = :llm AND start_ns >= :since AND start_ns < :until"
        " GROUP BY user_id, service_name"
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt, {"llm": True, "since": since_ns, "until": until_ns}).all()
    pairs = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=[
            "user", "service", "calls", "input_tokens", "output_tokens",
            "cost_usd", "cost_unknown",
        ],
    )  # fmt: skip
    frames = []
    for kind in ConsumerKind:
        if pairs.empty:
            break
        keyed = pairs.assign(consumer=pairs[str(kind)].fillna(NO_SEGMENT).astype(str))
        df = keyed.groupby("consumer", as_index=False).agg(
            calls=("calls", "sum"),
            input_tokens=("input_tokens", lambda c: c.sum(min_count=1)),
            output_tokens=("output_tokens", lambda c: c.sum(min_count=1)),
            cost_usd=("cost_usd", lambda c: c.sum(min_count=1)),
            cost_unknown=("cost_unknown", "sum"),
        )
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
