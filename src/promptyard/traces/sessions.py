"""Sessions: one user's conversation, a trace per turn, with cost and latency per turn."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from promptyard.errors import NotFoundError
from promptyard.storage import db
from promptyard.traces.filtering import TraceQueryError, from_ns
from promptyard.traces.queries import FeedbackSummary, feedback_by_trace
from promptyard.workspace import Workspace

MAX_TURNS = 500
"""A longer session shows its first MAX_TURNS turns and says so."""
RECENT_WINDOW = 20_000


@dataclass(frozen=True)
class Turn:
    """One turn: the trace the app produced for one user message.

    `user_message` is the last user message sent to the first LLM call; `answer` is the
    last LLM call's output. `cost_usd` is None unless every LLM call of the turn is priced;
    `latency_ms` is the trace's wall time (first span's start to the last span's end).
    """

    number: int
    trace_id: str
    started_at: datetime
    latency_ms: float
    llm_calls: int
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    error: bool
    prompt: str | None
    model: str | None
    user_message: str | None
    answer: str | None
    feedback: FeedbackSummary | None

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["started_at"] = self.started_at.isoformat()
        fb = self.feedback
        data["feedback"] = None if fb is None else {"count": fb.count, "mean": fb.mean}
        return data


@dataclass(frozen=True)
class SessionView:
    """A session's turns in time order, its users, and totals (cost None when unknown)."""

    session_id: str
    user_ids: list[str]
    turns: list[Turn]
    truncated: bool

    @property
    def cost_usd(self) -> float | None:
        costs = [t.cost_usd for t in self.turns]
        if not costs or any(c is None for c in costs):
            return None
        return float(sum(c for c in costs if c is not None))

    @property
    def latency_ms(self) -> float:
        return sum(t.latency_ms for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "user_ids": self.user_ids,
            "cost_usd": self.cost_usd,
            "truncated": self.truncated,
            "turns": [t.to_dict() for t in self.turns],
        }


@dataclass(frozen=True)
class SessionSummary:
    """A line of the sessions picker."""

    session_id: str
    user_id: str | None
    last_seen: datetime


def _last_user_message(messages_json: str | None) -> str | None:
    try:
        messages = json.loads(messages_json) if messages_json else []
    except ValueError:
        return None
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return None
    content = users[-1].get("content")
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def _turn(number: int, trace_id: str, spans: list[Any], fb: FeedbackSummary | None) -> Turn:
    llm = [s for s in spans if s.is_llm]
    costs = [s.cost_usd for s in llm]
    ins = [s.input_tokens for s in llm if s.input_tokens is not None]
    outs = [s.output_tokens for s in llm if s.output_tokens is not None]
    first = llm[0] if llm else spans[0]
    last = llm[-1] if llm else spans[-1]
    prompt = None
    if first.prompt_name:
        prompt = first.prompt_name + (f" v{first.prompt_version}" if first.prompt_version else "")
    start = min(int(s.start_ns) for s in spans)
    end = max(int(s.end_ns) for s in spans)
    return Turn(
        number=number,
        trace_id=trace_id,
        started_at=from_ns(start),
        latency_ms=(end - start) / 1e6,
        llm_calls=len(llm),
        input_tokens=sum(ins) if ins else None,
        output_tokens=sum(outs) if outs else None,
        cost_usd=None if not costs or None in costs else float(sum(costs)),
        error=any(s.status == "error" for s in spans),
        prompt=prompt,
        model=last.response_model or last.request_model,
        user_message=_last_user_message(first.input_messages_json),
        answer=last.output_text,
        feedback=fb,
    )


def session_turns(ws: Workspace | str, session_id: str) -> SessionView:
    """The turns of session `session_id`, oldest first, each a whole trace.

    A trace belongs to the session when any of its spans carries `session.id`; its other
    spans count towards the turn too. NotFoundError when no span names the session.
    """
    session_id = session_id.strip()
    if not session_id:
        raise TraceQueryError("name a session id")
    with db.session(ws) as s:
        conn = s.connection()
        trace_rows = conn.execute(
            text(
                "SELECT trace_id, MIN(start_ns) AS first_ns FROM span WHERE session_id = :sid"
                " GROUP BY trace_id ORDER BY first_ns, trace_id LIMIT :cap"
            ),
            {"sid": session_id, "cap": MAX_TURNS + 1},
        ).all()
        if not trace_rows:
            raise NotFoundError(f"no span names session {session_id!r}")
        truncated = len(trace_rows) > MAX_TURNS
        trace_ids = [r.trace_id for r in trace_rows[:MAX_TURNS]]
        params = {f"t{i}": t for i, t in enumerate(trace_ids)}
        names = ", ".join(f":{k}" for k in params)
        spans = conn.execute(
            text(
                "SELECT trace_id, start_ns, end_ns, is_llm, status, cost_usd, input_tokens,"
                " output_tokens, prompt_name, prompt_version, request_model, response_model,"
                " input_messages_json, output_text, user_id"
                f" FROM span WHERE trace_id IN ({names}) ORDER BY start_ns, id"
            ),
            params,
        ).all()
    by_trace: dict[str, list[Any]] = {t: [] for t in trace_ids}
    for span in spans:
        by_trace[span.trace_id].append(span)
    feedback = feedback_by_trace(ws, trace_ids)
    turns = [
        _turn(i + 1, t, by_trace[t], feedback.get(t))
        for i, t in enumerate(trace_ids)
        if by_trace[t]
    ]
    users = sorted({str(s.user_id) for s in spans if s.user_id})
    return SessionView(session_id, users, turns, truncated)


def recent_sessions(
    ws: Workspace | str, user_id: str | None = None, limit: int = 50
) -> list[SessionSummary]:
    """The sessions seen last, newest first, among the newest RECENT_WINDOW spans that
    carry a session (optionally of one user)."""
    params: dict[str, Any] = {"window": RECENT_WINDOW, "limit": limit}
    where = "session_id IS NOT NULL"
    if user_id and user_id.strip():
        where += " AND user_id = :uid"
        params["uid"] = user_id.strip()
    sql = text(
        "SELECT session_id, MAX(user_id) AS user_id, MAX(start_ns) AS last_ns FROM"
        f" (SELECT session_id, user_id, start_ns FROM span WHERE {where}"
        " ORDER BY start_ns DESC LIMIT :window) r"
        " GROUP BY session_id ORDER BY last_ns DESC LIMIT :limit"
    )
    with db.session(ws) as s:
        rows = s.connection().execute(sql, params).all()
    return [SessionSummary(r.session_id, r.user_id, from_ns(int(r.last_ns))) for r in rows]
