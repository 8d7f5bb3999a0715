"""Labeling assignments on the Rate page: a rater's queue; for editors, who is assigned to
each session of the run, their progress and the agreement so far. One call:
`assignment_panel(ws, run_id)`."""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from components.identity import current_identity
from components.output_cell import escape_markdown
from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.team import Permission, Role, allowed, load_team
from promptyard.workspace import Workspace

UNDEFINED = "—"


def _describe(sess: Any) -> str:
    what = f"rate · {sess.scheme}" if sess.kind == "rate" else "blind pairs"
    return f"#{sess.id} {what} · {sess.raters_per_cell} rater(s) per cell"


def _queue(ws: Workspace, rater: str) -> None:
    try:
        queue = ratings.rater_queue(ws, rater)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if not queue:
        st.caption("No labeling sessions are assigned to you yet.")
        return
    st.markdown("**Your queue**")
    for entry in queue:
        what = f"rate · {entry.scheme}" if entry.kind == "rate" else "blind pairs"
        row = st.columns([6, 1], vertical_alignment="bottom")
        row[0].progress(
            entry.fraction,
            text=f"Session #{entry.session_id} · run #{entry.run_id} "
            f"{escape_markdown(entry.run_name)} · {what}: {entry.done:,} of {entry.total:,} done",
        )
        row[1].button(
            "Open",
            key=f"assign.open::{entry.session_id}",
            on_click=_open,
            args=(entry,),
            disabled=entry.done >= entry.total,
        )


def _open(entry: ratings.QueueEntry) -> None:
    # Before the rerun draws the Rate page's pickers: point them at this session.
    st.session_state[state.RATE_RUN] = entry.run_id
    if entry.kind == "rate":
        st.session_state[state.RATE_SCHEME] = entry.scheme
        st.session_state[state.RATE_MODE] = "Rate cells"
    else:
        st.session_state[state.RATE_MODE] = "Blind pairs"


def _agreement_line(ws: Workspace, sess: Any) -> str:
    if sess.kind != "rate":
        return "Agreement is for rating sessions; blind pairs show their standings below."
    report = next(
        (r for r in ratings.run_agreement(ws, sess.run_id) if r.scheme == sess.scheme), None
    )
    if report is None or not report.cells_shared:
        return "Agreement: none yet (it needs cells rated by two or more raters)."
    kappa = report.cohen_kappa if len(report.raters) == 2 else report.fleiss_kappa
    alpha = report.krippendorff_alpha
    return (
        f"Agreement over {report.cells_shared:,} shared cell(s): {report.method} "
        f"{UNDEFINED if kappa is None else f'{kappa:.3f}'} · Krippendorff's α "
        f"{UNDEFINED if alpha is None else f'{alpha:.3f}'}"
    )


def _manage(ws: Workspace, run_id: int) -> None:
    sessions = {s.id: s for s in ratings.run_sessions(ws, run_id) if s.id is not None}
    if not sessions:
        st.caption("Start a labeling session below, then assign raters to it here.")
        return
    if st.session_state.get(state.ASSIGN_SESSION) not in sessions:
        st.session_state[state.ASSIGN_SESSION] = next(reversed(sessions))
    session_id = st.selectbox(
        "Session",
        list(sessions),
        key=state.ASSIGN_SESSION,
        format_func=lambda i: _describe(sessions[i]),
    )
    raters_of_team = sorted(k for k, r in load_team(ws).members.items() if r is Role.RATER)
    with st.form("assign.form", border=False):
        typed = st.text_input(
            "Assign raters",
            key=state.ASSIGN_RATERS,
            placeholder=", ".join(raters_of_team[:3]) or "ada@example.com, bo@example.com",
            help="Emails (or subjects), separated by commas",
        )
        submitted = st.form_submit_button("Assign", icon=":material/person_add:")
    if submitted:
        names = [n for n in (typed or "").split(",") if n.strip()]
        if not names:
            st.warning("Type one or more emails first.")
        else:
            try:
                ratings.assign_raters(ws, session_id, names)
                st.toast(f"Assigned {len(names)} rater(s) to session #{session_id}.")
            except PromptyardError as exc:
                st.error(str(exc))
    try:
        progress = ratings.rater_progress(ws, session_id)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if not progress:
        st.caption("Nobody is assigned to this session yet.")
    else:
        st.dataframe(
            [
                {
                    "rater": p.rater,
                    "assigned": "yes" if p.assigned else "no",
                    "done": p.done,
                    "of": p.total,
                    "progress": p.done / p.total if p.total else 1.0,
                }
                for p in progress
            ],
            hide_index=True,
            column_config={
                "progress": st.column_config.ProgressColumn(
                    min_value=0.0, max_value=1.0, format="percent"
                )
            },
        )
    st.caption(_agreement_line(ws, sessions[session_id]))


def assignment_panel(ws: Workspace, run_id: int) -> None:
    """The rater's queue; for editors, assignments, progress per rater and agreement."""
    who = current_identity()
    rater = who.key if who is not None else (st.session_state.get(state.RATER_NAME) or "").strip()
    manages = allowed(ws, Permission.MANAGE_SESSIONS)
    if rater and (who is None or not manages):
        _queue(ws, rater)
    if manages:
        with st.expander("Raters and progress", icon=":material/group:"):
            _manage(ws, run_id)
