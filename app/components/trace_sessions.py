"""The Sessions view: one user's conversation turn by turn, with cost and latency per turn."""

from __future__ import annotations

import state
import streamlit as st

from components.output_cell import escape_markdown, show_text
from components.trace_detail import money
from promptyard import traces
from promptyard.errors import PromptyardError
from promptyard.traces import SessionView, Turn
from promptyard.workspace import Workspace


def _open_turn(trace_id: str) -> None:
    st.session_state[state.TRACES_OPEN] = trace_id


def _feedback(turn: Turn) -> str:
    """`0.50 (2)`; feedback with text values only has no mean: `— (2)`."""
    if turn.feedback is None:
        return ""
    mean = "—" if turn.feedback.mean is None else f"{turn.feedback.mean:.2f}"
    return f"{mean} ({turn.feedback.count})"


def _turns(view: SessionView) -> None:
    users = ", ".join(view.user_ids) or "unknown"
    cols = st.columns(4)
    cols[0].metric("Turns", len(view.turns))
    cols[1].metric("User", users)
    cols[2].metric("Cost", money(view.cost_usd), help="Unknown when any call has no price")
    cols[3].metric("Time in calls", f"{view.latency_ms / 1000:,.1f} s")
    if view.truncated:
        st.warning(f"Only the first {len(view.turns)} turns are shown.")
    st.dataframe(
        [
            {
                "turn": t.number,
                "started (UTC)": t.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                "prompt": t.prompt or "",
                "model": t.model or "",
                "calls": t.llm_calls,
                "tokens": "unknown"
                if t.input_tokens is None
                else f"{t.input_tokens} → {t.output_tokens or 0}",
                "latency ms": round(t.latency_ms, 1),
                "cost": money(t.cost_usd),
                "status": "error" if t.error else "ok",
                "feedback": _feedback(t),
            }
            for t in view.turns
        ],
        hide_index=True,
        width="stretch",
    )
    for turn in view.turns:
        with st.container(border=True):
            head = st.columns([4, 1], vertical_alignment="center")
            head[0].markdown(
                escape_markdown(
                    f"Turn {turn.number} · {turn.latency_ms:,.0f} ms · {money(turn.cost_usd)}"
                    + (" · error" if turn.error else "")
                )
            )
            head[1].button(
                "Open trace",
                key=f"traces.turn::{turn.trace_id}",
                on_click=_open_turn,
                args=(turn.trace_id,),
                type="tertiary",
            )
            st.caption("user")
            show_text(turn.user_message or "(no user message captured)", key=f"u.{turn.trace_id}")
            st.caption("assistant")
            show_text(turn.answer, key=f"a.{turn.trace_id}")


def sessions_view(ws: Workspace) -> None:
    """Pick a session (the recent ones, or type an id) and show its turns."""
    recent = traces.recent_sessions(ws)
    ids = [s.session_id for s in recent]
    by_id = {s.session_id: s for s in recent}
    typed = st.session_state.get(state.TRACES_SESSION_PICK)
    if typed not in [None, *ids]:
        ids.insert(0, typed)
    if not ids:
        st.info(
            "No session yet. Spans join a session through the `session.id` attribute "
            "(and a user through `user.id`)."
        )
        return

    def describe(sid: str) -> str:
        s = by_id.get(sid)
        if s is None:
            return sid
        return f"{sid} · {s.user_id or 'unknown user'} · {s.last_seen:%Y-%m-%d %H:%M}"

    picked = st.selectbox(
        "Session",
        ids,
        format_func=describe,
        key=state.TRACES_SESSION_PICK,
        accept_new_options=True,
        help="The sessions seen last; type another session id",
    )
    if not picked:
        return
    try:
        view = traces.session_turns(ws, picked)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    _turns(view)
