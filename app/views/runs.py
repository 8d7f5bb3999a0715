"""Runs: build a plan, see its estimate, start it; follow, cancel and resume runs."""

from __future__ import annotations

import zlib

import pandas as pd
import state
import streamlit as st
from components.context import workspace
from components.dataset_picker import DatasetPick, dataset_picker
from components.model_picker import model_picker
from components.signin import may, may_or_say
from components.variable_mapper import variable_mapper

from promptyard.errors import PromptyardError
from promptyard.runs import (
    PlanError,
    RunSummary,
    cancel_run,
    format_usd,
    list_runs,
    run_progress,
)
from promptyard.team import Permission
from promptyard.ui_support import run_forms, run_variables

ACTIVE = ("running", "pending")
RESUMABLE = ("interrupted", "cancelled", "failed", "completed", "completed with errors")
DATASET_PICKER = "runs"  # the prefix of the shared dataset picker's keys on this page

ws = workspace()
st.title("🚀 Runs")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _request(pick: DatasetPick | None) -> run_forms.RunRequest | None:
    specs = st.session_state.get(state.RUNS_PROMPTS) or []
    models = st.session_state.get(state.RUNS_MODELS) or []
    if not specs or not models or pick is None:
        return None
    budget = float(st.session_state.get(state.RUNS_BUDGET) or 0.0)
    return run_forms.RunRequest(
        prompts=[(s.split("@", 1)[0], s.split("@", 1)[1]) for s in specs],
        models=list(models),
        dataset=(pick.name, pick.ref),
        slice=pick.slice.describe(),
        repeats=int(st.session_state.get(state.RUNS_REPEATS, 1)),
        concurrency=int(st.session_state.get(state.RUNS_CONCURRENCY, 8)),
        max_cost=budget if budget > 0 else None,
        use_cache=bool(st.session_state.get(state.RUNS_USE_CACHE, True)),
    )


def _new_run_form(expanded: bool) -> None:
    with st.expander("➕ New run", expanded=expanded):
        choices = run_forms.version_choices(ws)
        labels = {c.spec: c.label for c in choices}
        chips = {c.spec: c.chip or c.label for c in choices}  # short: two chips fit side by side
        if state.RUNS_PROMPTS not in st.session_state:
            # the prompt last opened or edited on the Prompts page, when there is one
            prefer = st.session_state.get(state.PROMPT_SELECTED)
            prompt_spec, dataset_name = run_forms.suggest_plan(ws, prefer=prefer)
            st.session_state[state.RUNS_PROMPTS] = [prompt_spec] if prompt_spec else []
            if dataset_name:
                st.session_state[state.dataset_pick_key(DATASET_PICKER, "name")] = dataset_name
        # The whole form's width: chips of several versions fit on one line, unclipped.
        st.multiselect(
            "Prompt versions",
            list(labels),
            key=state.RUNS_PROMPTS,
            format_func=lambda s: chips.get(s, s),
        )
        chosen = st.session_state.get(state.RUNS_PROMPTS) or []
        if chosen:
            st.caption(" · ".join(labels.get(spec, spec) for spec in chosen))
        left, right = st.columns(2)
        with left:
            model_picker(ws, "Models", key=state.RUNS_MODELS)
        with right:
            pick = dataset_picker(ws, key=DATASET_PICKER)
            a, b, c = st.columns(3)
            a.number_input("Repeats", min_value=1, max_value=50, value=1, key=state.RUNS_REPEATS)
            b.number_input(
                "Concurrency", min_value=1, max_value=256, value=8, key=state.RUNS_CONCURRENCY
            )
            c.number_input(
                "Budget (USD, 0 = none)",
                min_value=0.0,
                value=0.0,
                step=0.5,
                format="%.2f",
                key=state.RUNS_BUDGET,
            )
            st.checkbox("Use the response cache", value=True, key=state.RUNS_USE_CACHE)

        request = _request(pick)
        if request is None:
            st.caption("Pick at least one prompt version, one model and a dataset.")
            return
        request.mapping = variable_mapper(ws, request.prompts, request.dataset)
        try:
            est = run_forms.preview(ws, request)
        except PlanError as exc:
            st.error(f"This plan cannot run ({len(exc.problems)} problem(s)); nothing was sent.")
            st.text("\n".join(exc.problems[:50]))
            return
        except PromptyardError as exc:
            st.error(str(exc))
            return
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Calls", f"{est.calls:,}")
        m2.metric("Prompt tokens", f"{est.prompt_tokens:,}")
        m3.metric(
            "Cost (estimate)",
            "unknown" if est.cost_usd is None else format_usd(est.cost_usd),
            help="Prompt tokens by tiktoken; completions from earlier runs of the same "
            "prompt and model, else max_tokens, else 256 tokens.",
        )
        m4.metric("Time (estimate)", _duration(est.seconds))
        if est.source_note:
            st.caption(est.source_note.capitalize())
        if est.unknown_price_models:
            st.caption(f"Unknown price: {', '.join(est.unknown_price_models)}")
        if request.mapping is not None:
            filled = run_variables.plan_fillings(
                ws, request.prompts, request.dataset, request.mapping
            )
            st.caption("Variables: " + "; ".join(f.describe() for f in filled))
        if st.button("Start run", type="primary", key="runs.start"):
            try:
                run_id = run_forms.launch(ws, request)
            except PromptyardError as exc:
                st.error(str(exc))
                return
            st.session_state[state.RUNS_SELECTED] = run_id
            st.session_state[state.RUNS_FLASH] = f"Run {run_id} started."
            st.rerun()


def _progress_panel(run_id: int) -> None:
    try:
        p = run_progress(ws, run_id)
    except PromptyardError as exc:
        st.warning(str(exc))
        return
    active = p.status in ACTIVE

    @st.fragment(run_every=1.0 if active else None)
    def live() -> None:
        progress = run_progress(ws, run_id)
        st.subheader(f"Run {run_id} · {progress.status}")
        st.progress(progress.fraction, text=f"{progress.done:,} / {progress.total:,} cells")
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Errors", f"{progress.errors:,}")
        c2.metric("Spend", format_usd(progress.cost_usd))
        c3.metric("Elapsed", _duration(progress.elapsed_s))
        c4.metric("Time left", _duration(progress.eta_s) if progress.status in ACTIVE else "–")
        if progress.cached:
            st.caption(f"{progress.cached} cell(s) served from the cache")
        if progress.message:
            st.info(progress.message)
        if progress.status in ACTIVE:
            if progress.cancel_requested:
                st.caption("Cancelling…")
            elif may(Permission.START_RUNS) and st.button(
                "Cancel run", key=f"runs.cancel.{run_id}"
            ):
                cancel_run(ws, run_id)
                st.rerun(scope="fragment")
        elif active:
            st.rerun()  # the run just ended: redraw the page without polling
        elif (
            progress.status in RESUMABLE
            and progress.done < progress.total
            and may(Permission.START_RUNS)
            and st.button("Resume run", type="primary", key=f"runs.resume.{run_id}")
        ):
            try:
                run_forms.resume_in_background(ws, run_id)
            except PromptyardError as exc:
                st.error(str(exc))
            else:
                st.rerun()

    live()


def _past_runs(runs: list[RunSummary]) -> None:
    st.subheader("Past runs")
    if not runs:
        st.caption("No runs yet.")
        return
    frame = pd.DataFrame(
        [
            {
                "id": r.run_id,
                "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "status": r.status,
                "cells": r.cells,
                "ok": r.ok,
                "errors": r.errors,
                "cost (USD)": None if r.cost_label == "unknown" else round(r.cost_usd, 6),
                "wall time": _duration(r.wall_s),
                "dataset": r.dataset or "",
                "variants": ", ".join(r.variants),
            }
            for r in runs
        ]
    )
    count = st.column_config.NumberColumn(format="localized")  # 1,000,000, not 1000000
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"cells": count, "ok": count, "errors": count},
    )


flash = st.session_state.pop(state.RUNS_FLASH, None)
if flash:
    st.success(flash, icon="✅")

runs = list_runs(ws)
if may_or_say(Permission.START_RUNS, "start runs"):
    _new_run_form(expanded=not runs)
if runs:
    ids = [r.run_id for r in runs]
    if st.session_state.get(state.RUNS_SELECTED) not in ids:
        st.session_state[state.RUNS_SELECTED] = ids[0]
    by_id = {r.run_id: r for r in runs}
    # The browser keeps a picked option's old label while the value stays the same, so the
    # picker is a new widget whenever a status changes ("running" must become "completed").
    statuses = "".join(f"{r.run_id}{r.status}" for r in runs)
    pick_key = f"{state.RUNS_PICK}::{zlib.crc32(statuses.encode())}"

    def _picked() -> None:
        st.session_state[state.RUNS_SELECTED] = st.session_state[pick_key]

    st.selectbox(
        "Run",
        ids,
        index=ids.index(st.session_state[state.RUNS_SELECTED]),
        key=pick_key,
        on_change=_picked,
        format_func=lambda i: f"Run {i} · {by_id[i].status} · {', '.join(by_id[i].variants)[:80]}",
    )
    _progress_panel(int(st.session_state[state.RUNS_SELECTED]))
_past_runs(runs)
