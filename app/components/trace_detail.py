"""One trace: totals, the span tree with timing bars, every LLM call, feedback.

Everything that came from the application (span names, messages, outputs, attributes)
is shown as text: st.text / st.code / dataframes, or escaped markdown.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import state
import streamlit as st

from components.output_cell import escape_markdown, show_text
from promptyard.traces import Feedback, SpanNode, SpanScoreView, TraceDetail

LLM_COLOR, OTHER_COLOR, ERROR_COLOR = "#7c4dff", "#90a4ae", "#e53935"


def _label(value: str, limit: int = 60) -> str:
    # Plotly reads a small HTML subset (<a>, <b>, <br>) in labels and hovers: keep it text.
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return text.replace("<", "‹").replace(">", "›").replace("&", "＆")


def money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.6f}"


def _count(value: int | float | None, unit: str = "") -> str:
    return "unknown" if value is None else f"{value:,.0f}{unit}"


def timing_chart(detail: TraceDetail) -> go.Figure:
    """The span tree as a Gantt chart: one bar per span, indented by depth, in tree order."""
    names = [f"{'· ' * s.depth}{_label(s.name)}  #{i + 1}" for i, s in enumerate(detail.spans)]
    colors = [
        ERROR_COLOR if s.status == "error" else LLM_COLOR if s.is_llm else OTHER_COLOR
        for s in detail.spans
    ]
    hover = [
        f"{_label(s.name)}<br>start +{s.offset_ms:,.1f} ms · {s.duration_ms:,.1f} ms"
        + (f"<br>{_label(s.model or '')} · {money(s.cost_usd)}" if s.is_llm else "")
        for s in detail.spans
    ]
    figure = go.Figure(
        go.Bar(
            orientation="h",
            y=names,
            x=[max(s.duration_ms, 0.01) for s in detail.spans],
            base=[s.offset_ms for s in detail.spans],
            marker_color=colors,
            hovertext=hover,
            hoverinfo="text",
        )
    )
    figure.update_layout(
        height=min(80 + 28 * len(detail.spans), 700),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        xaxis_title="ms from the trace's start",
        yaxis={"autorange": "reversed", "type": "category"},
        showlegend=False,
    )
    return figure


def feedback_table(feedback: list[Feedback]) -> None:
    st.dataframe(
        [
            {
                "score": f.name,
                "value": f.value if f.value is not None else f.value_text,
                "comment": f.comment or "",
                "on": f"span {f.span_id}" if f.span_id else "trace",
                "from": f.source,
                "when": f.created_at,
            }
            for f in feedback
        ],
        hide_index=True,
        width="stretch",
    )


def scores_table(scores: list[SpanScoreView]) -> None:
    """Online evaluators' verdicts on one call; an unscored one says why."""
    st.dataframe(
        [
            {
                "suite": v.suite,
                "evaluator": v.evaluator,
                "verdict": "unscored" if v.passed is None else "pass" if v.passed else "fail",
                "score": v.score,
                "reason": v.reason or "",
                "judge cost": money(v.judge_cost_usd) if v.judge_cost_usd is not None else "",
            }
            for v in scores
        ],
        hide_index=True,
        width="stretch",
    )


def _open_prompt(name: str) -> None:
    st.session_state[state.PROMPT_SELECTED] = name


def _prompt_line(node: SpanNode) -> None:
    if not node.prompt_name:
        st.caption("No prompt version attached (promptyard.prompt.* attributes).")
        return
    version = f" v{node.prompt_version}" if node.prompt_version else ""
    label = f" · label {node.prompt_label}" if node.prompt_label else ""
    sha = f" · {node.prompt_sha[:8]}" if node.prompt_sha else ""
    text = escape_markdown(f"{node.prompt_name}{version}{label}{sha}")
    if node.prompt_link != "linked":
        st.markdown(f"**Prompt** {text} :orange-badge[not in this workspace]")
        return
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.markdown(f"**Prompt** {text}")
    if right.button(
        escape_markdown(f"Open {node.prompt_name}{version} on the Prompts page"),
        key=f"traces.prompt_link::{node.span_id}",
        icon="📝",
        type="tertiary",
        on_click=_open_prompt,
        args=(node.prompt_name,),
    ):
        st.switch_page("views/prompts.py")


def _messages(messages: list[dict[str, Any]], key: str) -> None:
    for i, message in enumerate(messages):
        st.caption(escape_markdown(str(message.get("role", "?"))))
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            content = json.dumps(content, indent=2, ensure_ascii=False)
        if content:
            show_text(content, key=f"{key}.{i}")
        if message.get("tool_calls"):
            st.code(
                json.dumps(message["tool_calls"], indent=2, ensure_ascii=False), language="json"
            )


def llm_call(node: SpanNode, scores: list[SpanScoreView] | None = None) -> None:
    """One LLM call: metrics, prompt version, input messages, output, parameters, online
    evaluation scores, feedback."""
    # The model is in the expander's title; five metrics keep each figure readable.
    cols = st.columns(5)
    cols[0].metric("Tokens", f"{_count(node.input_tokens)} → {_count(node.output_tokens)}")
    cols[1].metric("Cost", money(node.cost_usd))
    cols[2].metric("Latency", _count(node.duration_ms, " ms"))
    ttft = "—" if node.ttft_ms is None else f"{node.ttft_ms:,.0f} ms"
    cols[3].metric("Time to first token", ttft)
    cols[4].metric("Status", "error" if node.status == "error" else "ok")  # OTel "unset" = no error
    if node.status_message:
        st.text(node.status_message)
    if node.request_model and node.response_model and node.request_model != node.response_model:
        st.caption(escape_markdown(f"requested {node.request_model}"))
    _prompt_line(node)
    if node.prompt_variables:
        with st.expander("Prompt variables"):
            st.code(
                json.dumps(node.prompt_variables, indent=2, ensure_ascii=False), language="json"
            )
    st.markdown("**Input messages**")
    if node.input_messages:
        _messages(node.input_messages, f"in.{node.span_id}")
    else:
        st.caption("(not captured)")
    st.markdown("**Output**")
    if node.output_messages:
        _messages(node.output_messages, f"out.{node.span_id}")
    else:
        show_text(node.output_text, key=f"out.{node.span_id}")
    if node.finish_reasons:
        st.caption(escape_markdown("finish: " + ", ".join(map(str, node.finish_reasons))))
    if node.parameters:
        st.markdown("**Parameters**")
        st.code(json.dumps(node.parameters, indent=2, ensure_ascii=False), language="json")
    if scores:
        st.markdown("**Online evaluation**")
        scores_table(scores)
    if node.feedback:
        st.markdown("**Feedback on this call**")
        feedback_table(node.feedback)


def trace_view(detail: TraceDetail, scores: dict[int, list[SpanScoreView]] | None = None) -> None:
    """The whole trace; `scores`: online evaluators' verdicts by span row id."""
    root = detail.root
    st.subheader(f"Trace {detail.trace_id[:12]}…", anchor=False)
    st.caption(
        escape_markdown(
            f"{detail.trace_id} · {root.name} · started {detail.started_at:%Y-%m-%d %H:%M:%S} UTC"
            + (f" · user {root.user_id}" if root.user_id else "")
            + (f" · session {root.session_id}" if root.session_id else "")
        )
    )
    cols = st.columns(5)
    cols[0].metric("Duration", f"{detail.duration_ms:,.0f} ms")
    cols[1].metric("Spans", len(detail.spans), help=f"{len(detail.llm_spans)} LLM calls")
    cols[2].metric("Tokens", f"{_count(detail.input_tokens)} → {_count(detail.output_tokens)}")
    cols[3].metric("Cost", money(detail.cost_usd), help="Unknown when any call has no price")
    cols[4].metric("Status", "error" if detail.has_error else "ok")
    if detail.truncated:
        st.warning(
            f"This trace has more spans than shown; the first {len(detail.spans):,} are here."
        )
    st.plotly_chart(timing_chart(detail), key=f"traces.timing::{detail.trace_id}")
    if detail.feedback:
        st.markdown("**Feedback**")
        feedback_table(detail.feedback)
    for i, node in enumerate(detail.spans):
        if not node.is_llm:
            continue
        title = f"#{i + 1} {node.name} · {node.response_model or node.request_model or ''}"
        with st.expander(escape_markdown(title), expanded=len(detail.llm_spans) <= 2):
            llm_call(node, (scores or {}).get(node.id))
    others = [n for n in detail.spans if not n.is_llm]
    if others:
        with st.expander(f"Other spans ({len(others)})"):
            st.dataframe(
                [
                    {
                        "span": "  " * n.depth + n.name,
                        "kind": n.kind,
                        "start ms": round(n.offset_ms, 1),
                        "duration ms": round(n.duration_ms, 1),
                        "status": "error" if n.status == "error" else "ok",
                        "attributes": json.dumps(n.attributes, ensure_ascii=False)[:300],
                    }
                    for n in others
                ],
                hide_index=True,
                width="stretch",
            )
