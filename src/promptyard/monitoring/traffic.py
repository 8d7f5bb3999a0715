"""Change markers and top consumers for the Monitoring page.

A change marker is the first moment a prompt version, or a model the provider reported,
appeared in stored LLM traffic (over all time, not only the range looked at): the charts
draw a vertical line there. Each first moment is one seek on the m015 indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pandas as pd
from sqlalchemy import text

from promptyard.monitoring.metrics import NO_SEGMENT, has_table
from promptyard.storage import get_engine
from promptyard.workspace import Workspace


class ChangeKind(StrEnum):
    """What appeared in traffic."""

    PROMPT_VERSION = "prompt_version"
    RESPONSE_MODEL = "response_model"


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
    versions = text(
        "SELECT prompt_name, prompt_version, MIN(start_ns) FROM span"
        " WHERE is_llm = :llm AND prompt_name IS NOT NULL AND prompt_version IS NOT NULL"
        " GROUP BY prompt_name, prompt_version"
    )
    models = text(
        "SELECT response_model, MIN(start_ns) FROM span"
        " WHERE is_llm = :llm AND response_model IS NOT NULL GROUP BY response_model"
    )
    markers: list[ChangeMarker] = []
    with engine.connect() as conn:
        if not has_table(conn, "span"):
            return []
        by_prompt: dict[str, list[tuple[int, int]]] = {}
        for name, version, first in conn.execute(versions, {"llm": True}):
            by_prompt.setdefault(str(name), []).append((int(first), int(version)))
        seen_models = sorted(
            (int(first), str(m)) for m, first in conn.execute(models, {"llm": True})
        )
    # The first version of a prompt and the first model are where traffic began, not a
    # change: a marker is something that arrived after traffic was already flowing.
    for name, firsts in by_prompt.items():
        for first, version in sorted(firsts)[1:]:
            markers.append(_marker(ChangeKind.PROMPT_VERSION, f"{name} v{version}", first))
    for first, model in seen_models[1:]:
        markers.append(_marker(ChangeKind.RESPONSE_MODEL, model, first))
    inside = [m for m in markers if since_ns <= m.at_ns < until_ns]
    return sorted(inside, key=lambda m: (m.at_ns, m.kind, m.label))


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
