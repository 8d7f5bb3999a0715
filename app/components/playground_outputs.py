"""The Playground's answers: every column redrawn as its tokens stream in (a fragment that
polls the call), chat turns per column, then "save as run" and "add to a dataset"."""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from components.output_cell import escape_markdown
from components.signin import may
from promptyard import datasets, runs
from promptyard.errors import PromptyardError
from promptyard.runs import ColumnOutput, PlaygroundSnapshot
from promptyard.team import Permission
from promptyard.workspace import Workspace

# How often a streaming call is redrawn: a poll reads memory only, so it can be brisk.
POLL_S = 0.25


def numbers(out: ColumnOutput) -> str:
    """The finished call's tokens, cost, latency and time to first token, as one line."""
    parts = []
    pt, ct = out.prompt_tokens, out.completion_tokens
    if pt is not None or ct is not None:
        parts.append(f"{pt or 0} → {ct or 0} tokens")
    parts.append("cost unknown" if out.cost_usd is None else runs.format_usd(out.cost_usd))
    if out.latency_ms is not None:
        parts.append(f"{out.latency_ms:,.0f} ms")
    if out.ttft_ms is not None:
        parts.append(f"first token {out.ttft_ms:,.0f} ms")
    return " · ".join(parts)


def _column(out: ColumnOutput, chat: bool) -> None:
    simulated = " · simulated" if out.simulated else ""
    st.markdown(f"**{escape_markdown(out.label)}**{simulated}")
    if chat:
        answered = bool(out.turns) and out.turns[-1]["role"] == "assistant" and out.done
        for turn in out.turns:
            with st.chat_message(turn["role"]):
                st.text(turn["content"])
        if not answered and not out.error_kind:
            with st.chat_message("assistant"):
                st.text(out.text or "…")
    else:
        st.text(out.text or ("…" if not out.done else "(no output)"))
    if out.error_kind:
        st.error(escape_markdown(f"{out.error_kind}: {out.error_message or ''}"))
    if out.done:
        st.caption(numbers(out))
    if out.guardrail:
        st.caption(f"🛡️ {escape_markdown(out.guardrail)}")


def _save_run(ws: Workspace, snap: PlaygroundSnapshot) -> None:
    if snap.saved_run_id is not None:
        st.caption(f"Saved as Run {snap.saved_run_id}: open it in Compare or Rate.")
        return
    if not may(Permission.START_RUNS):
        return
    if st.button("Save as run", key="playground.save_run", help="Keep these answers as a run"):
        try:
            run_id = runs.save_playground_run(ws, snap.session_id)
        except PromptyardError as exc:
            st.error(str(exc))
        else:
            st.session_state[state.PLAY_FLASH] = f"Saved as Run {run_id}."
            st.rerun()


def add_to_dataset(ws: Workspace, inputs: dict[str, Any]) -> None:
    """A form that appends `inputs` as a row of a chosen (or new) dataset, committed."""
    if not may(Permission.EDIT_DATASETS):
        return
    with st.expander("Add these inputs to a dataset"):
        names = [d.name for d in datasets.list_datasets(ws)]
        new = "(a new dataset)"
        picked = st.selectbox("Dataset", [*names, new], key=state.PLAY_DATASET)
        fresh = ""
        if picked == new:
            fresh = st.text_input("New dataset name", key=state.PLAY_NEW_DATASET)
        st.caption("Adds one row: " + escape_markdown(", ".join(inputs) or "(no inputs)"))
        if st.button("Add row", key="playground.add_row"):
            target = fresh if picked == new else str(picked)
            try:
                version = runs.add_inputs_to_dataset(ws, target, inputs)
            except PromptyardError as exc:
                st.error(str(exc))
            else:
                st.session_state[state.PLAY_FLASH] = (
                    f"Added a row to {target} ({version.rows} rows, {version.short_sha})."
                )
                st.rerun()


def outputs(ws: Workspace, session_id: str, chat: bool) -> None:
    """The columns of call `session_id`, polled while they stream."""
    first = runs.playground_snapshot(session_id)
    if first is None:
        return

    @st.fragment(run_every=POLL_S if not first.finished else None)
    def draw() -> None:
        snap = runs.playground_snapshot(session_id)
        if snap is None:
            return
        boxes = st.columns(len(snap.columns))
        for i, (box, out) in enumerate(zip(boxes, snap.columns, strict=True)):
            with box, st.container(key=f"playground-out-{i}"):
                _column(out, chat)
        if snap.finished and not first.finished:
            st.rerun()  # every column is done: stop polling, offer the actions
        if snap.finished:
            _save_run(ws, snap)

    draw()
