"""End users' feedback per prompt version: what the dashboard counts beside human ratings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from promptyard.storage import db
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class VersionFeedback:
    """Feedback under one scheme on the traces of one prompt version.

    `mean` is over the numeric values (None when every value is text); `count` counts all.
    """

    prompt_name: str
    prompt_version: int | None
    scheme: str
    count: int
    mean: float | None


def feedback_by_version(ws: Workspace | str) -> list[VersionFeedback]:
    """Per (prompt, version, scheme): how many feedback entries and their mean value.

    Feedback on a span counts for that span's prompt version; feedback on a whole trace
    counts once for each prompt version the trace's spans name.
    """
    sql = text(
        "SELECT DISTINCT f.id AS fid, f.name AS scheme, f.value AS value,"
        " s.prompt_name AS prompt_name, s.prompt_version AS prompt_version"
        " FROM trace_feedback f JOIN span s ON s.trace_id = f.trace_id"
        " WHERE s.prompt_name IS NOT NULL AND (f.span_id IS NULL OR f.span_id = s.span_id)"
    )
    with db.session(ws) as s:
        rows = s.connection().execute(sql).all()
    groups: dict[tuple[str, int | None, str], list[float | None]] = {}
    for r in rows:
        groups.setdefault((r.prompt_name, r.prompt_version, r.scheme), []).append(r.value)
    result = []
    for (name, version, scheme), values in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2])
    ):
        numbers = [v for v in values if v is not None]
        mean = sum(numbers) / len(numbers) if numbers else None
        result.append(VersionFeedback(name, version, scheme, len(values), mean))
    return result
