"""The fine-tuning export panel: OpenAI JSONL from the runs on the page, checked and priced."""

from __future__ import annotations

from collections.abc import Sequence

import state
import streamlit as st

from promptyard import finetune as ft
from promptyard.errors import PromptyardError
from promptyard.ratings import load_schemes
from promptyard.workspace import Workspace


def finetune_button(ws: Workspace, run_ids: Sequence[int], page: str) -> None:
    """An expander that builds an SFT or DPO file from `run_ids` and offers it to download;
    with nothing over the bar it says why and offers no file."""
    ids = [int(r) for r in run_ids]
    if not ids:
        return
    with st.expander("🎓 Fine-tuning data (OpenAI JSONL)"):
        runs = ", ".join(f"#{r}" for r in ids[:8]) + (
            f" and {len(ids) - 8} more" if len(ids) > 8 else ""
        )
        st.caption(
            f"From run {runs}: supervised examples from cells whose rating (or suite score) "
            "clears the bar, or preference pairs from blind A/B votes. `promptyard export "
            "finetune` does the same from the command line."
        )
        cols = st.columns([2, 3, 4], vertical_alignment="bottom")
        fmt = (
            cols[0].segmented_control(
                "Format", ["sft", "dpo"], default="sft", key=state.finetune_key(page, "format")
            )
            or "sft"
        )
        min_score = cols[1].slider(
            "Bar (0..1)", 0.0, 1.0, ft.DEFAULT_MIN_SCORE, 0.05, key=state.finetune_key(page, "min")
        )
        schemes = [s.name for s in load_schemes(ws) if str(s.kind) in ("numeric", "boolean")]
        scheme = cols[2].selectbox(
            "Judge by",
            [None, *schemes],
            format_func=lambda s: "ratings, else suites" if s is None else s,
            key=state.finetune_key(page, "scheme"),
        )
        row = st.columns([2, 5], vertical_alignment="center")
        traces = row[1].checkbox(
            "Also production traces with end-user feedback", key=state.finetune_key(page, "traces")
        )
        if not row[0].button("Prepare the file", key=state.finetune_key(page, "build"), icon="🎓"):
            return
        try:
            export = ft.build_finetune(
                ws, ids, fmt, min_score=min_score, scheme=scheme, traces=traces
            )
        except PromptyardError as exc:
            st.error(str(exc))
            return
        reason = export.empty_reason
        if reason:
            st.warning(f"{reason}. No file to download.")
            return
        for line in export.summary_lines():
            st.text(line)
        if not export.validation.ok:
            st.error("Fails OpenAI's checks: " + "; ".join(export.validation.describe()))
            return
        st.download_button(
            f"Download {export.count} {fmt.upper()} examples",
            data=export.text(),
            file_name=f"finetune-{fmt}.jsonl",
            mime="application/jsonl",
            on_click="ignore",
            key=state.finetune_key(page, "download"),
            icon="⬇️",
        )
