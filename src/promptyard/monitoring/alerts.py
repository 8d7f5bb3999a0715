"""Stored alerts (table `alert`, m016): what fired, when, on which spans, and its delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from promptyard.monitoring.checks import CheckResult
from promptyard.storage import db
from promptyard.workspace import Workspace

_COLUMNS = (
    "id, monitor, fired_at, metric, value, baseline, p_value, count, message, filter_json, "
    "span_ids_json, delivered, delivery_error"
)


@dataclass(frozen=True)
class Alert:
    """One stored alert."""

    id: int
    monitor: str
    fired_at: datetime
    metric: str
    value: float | None
    baseline: float | None
    p_value: float | None
    count: int
    message: str
    filter: dict[str, Any]
    span_ids: list[str]
    delivered: bool
    delivery_error: str | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["fired_at"] = self.fired_at.isoformat()
        return out


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_alert(ws: Workspace, result: CheckResult, delivery_error: str | None = None) -> int:
    """Store a fired result as an alert (not yet delivered); its id."""

    def insert(s: Session) -> int:
        params = {
            "monitor": result.monitor,
            "fired_at": _utcnow(),
            "metric": result.metric,
            "value": result.value,
            "baseline": result.baseline,
            "p_value": result.p_value,
            "count": result.count,
            "message": result.message,
            "filter_json": json.dumps(result.scope, sort_keys=True),
            "span_ids_json": json.dumps(result.span_ids),
            "delivered": False,
            "delivery_error": delivery_error,
        }
        names = ", ".join(params)
        values = ", ".join(f":{k}" for k in params)
        s.connection().execute(text(f"INSERT INTO alert ({names}) VALUES ({values})"), params)
        row = s.connection().execute(text("SELECT MAX(id) FROM alert")).scalar_one()
        return int(row)

    return db.write(ws, insert)


def set_delivery(ws: Workspace, alert_id: int, delivered: bool, error: str | None) -> None:
    """Record a webhook delivery's outcome on alert `alert_id`."""
    db.write(
        ws,
        lambda s: s.connection().execute(
            text("UPDATE alert SET delivered = :d, delivery_error = :e WHERE id = :i"),
            {"d": delivered, "e": error, "i": alert_id},
        ),
    )


def recently_fired(ws: Workspace, monitor: str, window_s: int) -> bool:
    """Whether `monitor` stored an alert within the last `window_s` seconds (one per window)."""
    since = _utcnow() - timedelta(seconds=window_s)
    with db.session(ws) as s:
        row = s.connection().execute(
            text("SELECT 1 FROM alert WHERE monitor = :m AND fired_at >= :t LIMIT 1"),
            {"m": monitor, "t": since},
        )
        return row.first() is not None


def list_alerts(
    ws: Workspace, limit: int = 50, monitor: str | None = None, since: datetime | None = None
) -> list[Alert]:
    """Stored alerts, newest first: at most `limit`, of one monitor or since a time if given."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if monitor is not None:
        where.append("monitor = :m")
        params["m"] = monitor
    if since is not None:
        where.append("fired_at >= :since")
        params["since"] = since
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {_COLUMNS} FROM alert{cond} ORDER BY fired_at DESC, id DESC LIMIT :limit"
    with db.session(ws) as s:
        rows = s.connection().execute(text(sql), params).all()
    return [_alert(r) for r in rows]


def _alert(r: Any) -> Alert:
    fired = r[2] if isinstance(r[2], datetime) else datetime.fromisoformat(str(r[2]))
    return Alert(
        id=int(r[0]),
        monitor=r[1],
        fired_at=fired,
        metric=r[3],
        value=r[4],
        baseline=r[5],
        p_value=r[6],
        count=int(r[7]),
        message=r[8],
        filter=json.loads(r[9]),
        span_ids=json.loads(r[10]),
        delivered=bool(r[11]),
        delivery_error=r[12],
    )
