"""Score a run with an eval suite from the page, and see how far a judge agrees with people."""

from __future__ import annotations

import pandas as pd
import state
import streamlit as st

from components.signin import may
from promptyard.errors import PromptyardError
from promptyard.evals import (
    calibrate,
    cancel_scoring,
    list_suites,
    load_suite,
    scoring_job,
    start_scoring,
    stored_results,
    suites_for_run,
)
from promptyard.team import Permission
from promptyard.workspace import Workspace


def evaluate_panel(ws: Workspace, run_id: int) -> None:
    """Suites to score the run with, what scoring stored, and the judge's calibration."""
    names = list_suites(ws)
    if not names:
        st.info("No eval suites yet: add one as evals/NAME.yaml (see docs/evaluators.md).")
        return
    fitting = [s.name for s in suites_for_run(ws, run_id)]
    ordered = fitting + [n for n in names if n not in fitting]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = left.selectbox(
        "Score with the suite",
        ordered,
        key=state.for_run(state.COMPARE_SUITE, run_id),
        format_func=lambda n: n if n in fitting else f"{n} (names other prompts or data)",
    )
    try:
        suite = load_suite(ws, choice, check_refs=False)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if suite.uses_custom_code():
        st.warning(
            "This suite runs Python code from the workspace's evaluators/ folder: "
            + ", ".join(suite.uses_custom_code()),
            icon="⚠️",
        )
    if suite.uses_judges():
        st.caption("This suite calls an LLM judge for every cell; the judge's cost is recorded.")
    if may(Permission.START_RUNS) and right.button(
        "Score this run", type="primary", key=state.for_run(state.COMPARE_SCORE, run_id)
    ):
        try:
            start_scoring(ws, run_id, choice)
        except PromptyardError as exc:
            st.error(str(exc))
    _progress(ws, run_id, choice)
    _results(ws, run_id)
    _calibration(ws, run_id)


@st.fragment(run_every=1.0)
def _progress(ws: Workspace, run_id: int, suite: str) -> None:
    # The job runs in the worker process; this fragment only reads where it stands.
    job = scoring_job(ws, run_id, suite)
    if job is None:
        return
    if job.running:
        total = job.total or 1
        left = job.seconds_left()
        eta = f" · about {left:.0f} s left" if left is not None else ""
        cost = f" · judges ${job.cost_usd:.4f}" if job.cost_usd else ""
        bar, stop = st.columns([4, 1], vertical_alignment="center")
        bar.progress(
            min(1.0, job.done / total),
            text=f"Scoring with {suite}: {job.done:,} / {job.total:,} cells{cost}{eta}",
        )
        key = f"{state.for_run(state.COMPARE_SCORE, run_id)}.cancel"
        if may(Permission.START_RUNS) and stop.button("Cancel scoring", key=key):
            cancel_scoring(ws, job.job_id)
        return
    if job.resumable:
        st.info(
            f"Scoring with {suite} stopped at {job.done:,} / {job.total:,} cells; "
            "score the run again to finish the rest."
        )
    elif job.error:
        st.error(f"Scoring with {suite} failed: {job.error}")
    elif job.just_finished and st.session_state.get(state.COMPARE_SCORED) != (
        run_id,
        suite,
        job.job_id,
    ):
        st.session_state[state.COMPARE_SCORED] = (run_id, suite, job.job_id)
        st.success(f"Scored {job.cells} cells with {suite}: {job.passed} passed.")
        st.rerun()  # the grid shows the new scores


def _results(ws: Workspace, run_id: int) -> None:
    results = stored_results(ws, run_id)
    if not results:
        st.caption("No scores on this run yet.")
        return
    table = pd.DataFrame(
        [
            {
                "suite": r.suite,
                "variant": r.label,
                "cells": r.cells,
                "pass rate": r.pass_rate,
                "mean score": r.mean_score,
                "judge cost (USD)": r.judge_cost_usd,
            }
            for r in results
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "pass rate": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            ),
            "mean score": st.column_config.NumberColumn(format="%.2f"),
            "judge cost (USD)": st.column_config.NumberColumn(format="$%.4f"),
        },
    )


def _calibration(ws: Workspace, run_id: int) -> None:
    report = calibrate(ws, run_id=run_id)
    st.markdown("**Judge calibration**")
    if report.n == 0:
        st.caption(
            "Shown once cells of this run have both a human rating and an LLM judge's score: "
            "rate some cells above, and score the run with a suite that has an llm-rubric."
        )
        return
    c = st.columns(4)
    c[0].metric("Cells both scored", report.n)
    why = report.reasons  # the library says why a statistic is undefined ("—")
    c[1].metric(
        "Pearson r",
        "—" if report.pearson is None else f"{report.pearson:.2f}",
        help=why.get("pearson"),
    )
    c[2].metric(
        "Cohen's κ (pass/fail)",
        "—" if report.kappa is None else f"{report.kappa:.2f}",
        help=why.get("kappa"),
    )
    c[3].metric(
        "Agreement",
        "—" if report.agreement is None else f"{report.agreement:.0%}",
        help=why.get("agreement"),
    )
    if report.disagreements:
        st.caption("Where the judge and people disagree most")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "row": d.row_id,
                        "people": d.human,
                        "judge": d.judge,
                        "judge's reason": d.reason or "",
                        "output": (d.output or "")[:300],
                    }
                    for d in report.disagreements
                ]
            ),
            hide_index=True,
            width="stretch",
        )
