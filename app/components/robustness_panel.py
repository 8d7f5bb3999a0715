"""Compare, for a robustness run: the consistency table and each variant beside its original."""

from __future__ import annotations

import pandas as pd
import state
import streamlit as st

from components.output_cell import diff_markdown, show_text
from promptyard import reading
from promptyard.errors import PromptyardError
from promptyard.robustness import RobustnessReport, robustness_report
from promptyard.workspace import Workspace

PAIRS_PER_PAGE = 5


def _table(report: RobustnessReport) -> pd.DataFrame:
    labels = report.labels()
    rows = []
    for kind, figures in report.matrix():
        row: dict[str, object] = {"kind": kind}
        for label, f in zip(labels, figures, strict=True):
            row[label] = None if f is None or f.consistency is None else round(f.consistency, 3)
        rows.append(row)
    return pd.DataFrame(rows)


def _pair(pair: reading.PerturbedPair) -> None:
    verdict = {True: "✅ equivalent", False: "❌ broke", None: "— not decided"}[pair.consistent]
    st.markdown(f"**{pair.original_row_id}** · {pair.kind} · {pair.label} · {verdict}")
    if pair.reason:
        st.caption(pair.reason)
    left, right = st.columns(2)
    for column in pair.changed_inputs():
        before = str(pair.original_inputs.get(column, ""))
        after = str(pair.variant_inputs.get(column, ""))
        left.caption(f"original {column}")
        with left:
            show_text(before, key=f"robust.in.o.{pair.variant_cell_id}.{column}")
        right.caption(f"{pair.kind} {column}")
        segments = reading.word_diff(before, after)
        if segments is not None:
            right.markdown(diff_markdown(segments))
        else:
            with right:
                show_text(after, key=f"robust.in.v.{pair.variant_cell_id}.{column}")
    left.caption("original output")
    with left:
        show_text(
            pair.original_output or pair.original_error, key=f"robust.o.{pair.variant_cell_id}"
        )
    right.caption("variant output")
    with right:
        show_text(pair.variant_output or pair.variant_error, key=f"robust.v.{pair.variant_cell_id}")
    st.divider()


def robustness_panel(ws: Workspace, run_id: int) -> None:
    """Nothing for an ordinary run; for a robustness run, its figures and its pairs."""
    if not reading.is_robustness_run(ws, run_id):
        return
    try:
        report = robustness_report(ws, run_id)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    with st.expander("🧪 Robustness: consistency per perturbation kind", expanded=True):
        if report.measure is None:
            st.info(
                f"Not scored yet. Score it with `promptyard robustness --run {run_id}` "
                "(add `--measure similarity`, `assertion` or `judge` for another measure)."
            )
            return
        st.caption(
            f"Share of variants whose output stayed equivalent to the original's, by "
            f"**{report.measure}** (CheckList invariance tests). Seed {report.seed}; "
            f"perturbed columns: {', '.join(report.columns)}."
        )
        labels = report.labels()
        config = {
            label: st.column_config.ProgressColumn(
                label, min_value=0.0, max_value=1.0, format="percent"
            )
            for label in labels
        }
        st.dataframe(_table(report), hide_index=True, column_config=config)
        skipped = {k: n for k, n in report.skipped.items() if n}
        if skipped:
            st.caption(
                "Skipped where the perturbation could not apply: "
                + ", ".join(f"{k} {n} row(s)" for k, n in skipped.items())
            )
        kinds = [k for k, _ in report.matrix() if k != "all"]
        variants = {f.variant_id: label for f, label in zip(report.overall, labels, strict=True)}
        page_key = state.for_run(state.ROBUST_PAGE, run_id)

        def first_page() -> None:
            st.session_state[page_key] = 0

        f = st.columns([2, 3, 2], vertical_alignment="bottom")
        kind = f[0].selectbox(
            "Kind",
            ["all", *kinds],
            key=state.for_run(state.ROBUST_KIND, run_id),
            on_change=first_page,
        )
        variant = f[1].selectbox(
            "Variant",
            [None, *variants],
            format_func=lambda v: "every variant" if v is None else variants[v],
            key=state.for_run(state.ROBUST_VARIANT, run_id),
            on_change=first_page,
        )
        broken = f[2].checkbox(
            "Broken only",
            value=True,
            key=state.for_run(state.ROBUST_BROKEN, run_id),
            on_change=first_page,
        )
        page = int(st.session_state.get(page_key, 0))
        found = reading.perturbation_pairs(
            ws,
            run_id,
            kind=None if kind == "all" else kind,
            variant_id=variant,
            broken_only=broken,
            limit=PAIRS_PER_PAGE,
            offset=page * PAIRS_PER_PAGE,
        )
        if not found.pairs:
            st.info("No pair matches: every variant kept its answer." if broken else "No pairs.")
            return
        for pair in found.pairs:
            _pair(pair)
        pages = max(1, -(-found.total // PAIRS_PER_PAGE))
        nav = st.columns([1, 2, 1])
        if nav[0].button("Previous", disabled=page == 0, key=f"robust.prev.{run_id}"):
            st.session_state[page_key] = page - 1
            st.rerun()
        nav[1].caption(f"{found.total:,} pairs · page {page + 1} of {pages}")
        if nav[2].button("Next", disabled=page + 1 >= pages, key=f"robust.next.{run_id}"):
            st.session_state[page_key] = page + 1
            st.rerun()
