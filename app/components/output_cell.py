"""One cell of the Compare grid, a trace, and rating inputs: model text is always inert.

Model output and user text go through `st.text`/`st.code`, or through markdown with every
ASCII punctuation character backslash-escaped (CommonMark allows escaping any of them), so
no HTML, link, image, emoji code or LaTeX in the text can take effect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from promptyard.guardrails import guardrail_line
from promptyard.ratings import RatingScheme
from promptyard.reading import (
    CellTrace,
    Column,
    GridCell,
    RatingSummary,
    Segment,
    tool_call_lines,
)

COLLAPSE_AT = 600
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
THUMBS = {"👍": True, "👎": False}
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(:/|www\.|\S@)")


def escape_markdown(value: str) -> str:
    """`value` as markdown that shows exactly its characters, line breaks kept.

    GFM turns bare URLs and e-mail addresses into links even when escaped, so an
    invisible word joiner goes into `://`, `www.` and before `@` to keep them text.
    """
    defused = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + WORD_JOINER + m.group(0)[-1], value)
    escaped = _PUNCT.sub(r"\\\1", defused)
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")


def _directive(kind: str, piece: str) -> str:
    # Colour the words, keep the whitespace around them outside the directive.
    core = piece.strip()
    if not core:
        return escape_markdown(piece)
    lead = piece[: len(piece) - len(piece.lstrip())]
    tail = piece[len(piece.rstrip()) :]
    body = escape_markdown(core)
    styled = f":green-background[{body}]" if kind == "added" else f":red-background[~~{body}~~]"
    return escape_markdown(lead) + styled + escape_markdown(tail)


def diff_markdown(segments: list[Segment]) -> str:
    """A word diff as escaped markdown: additions green, removals struck out in red."""
    out = []
    for seg in segments:
        if seg.kind == "same":
            out.append(escape_markdown(seg.text))
            continue
        lines = seg.text.split("\n")
        out.append("  \n".join(_directive(seg.kind, line) for line in lines))
    return "".join(out)


def show_text(value: str | None, key: str, collapse_at: int = COLLAPSE_AT) -> None:
    """Plain text; a long one shows its start and the rest in an expander."""
    if value is None:
        st.caption("(no output)")
        return
    if len(value) <= collapse_at:
        st.text(value)
        return
    st.text(value[:collapse_at].rstrip() + " …")
    with st.expander(f"Show all {len(value):,} characters"):
        st.text(value)


def show_tool_calls(calls: list[dict[str, Any]] | None) -> None:
    """The tool calls a model made, one `name(arguments)` line each, as inert text."""
    if calls:
        st.caption(f"{len(calls)} tool call{'s' if len(calls) > 1 else ''}")
        st.code("\n".join(tool_call_lines(calls)), language=None, wrap_lines=True)


def metrics_line(cell: GridCell) -> str:
    parts = []
    if cell.prompt_tokens is not None or cell.completion_tokens is not None:
        parts.append(f"{cell.prompt_tokens or 0}→{cell.completion_tokens or 0} tok")
    if cell.cached:  # this run paid and waited for nothing; the original's figures differ
        parts.append("cached · $0 this run")
        return " · ".join(parts)
    parts.append("$?" if cell.cost_usd is None else f"${cell.cost_usd:.5f}")
    if cell.latency_ms is not None:
        parts.append(f"{cell.latency_ms:,.0f} ms")
    if cell.attempts > 1:
        parts.append(f"{cell.attempts} attempts")
    return " · ".join(parts)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "👍" if value else "👎"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def summary_text(summary: RatingSummary) -> str:
    """`quality: 3.5 avg (2)`, `thumbs: 👍 👎 (2)`, `issues: too long (1)`."""
    values = list(summary.values.values())
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and len(numbers) == len(values):
        shown = f"{sum(numbers) / len(numbers):.1f} avg"
    else:
        shown = " ".join(_format_value(v) for v in values)
    return f"{summary.scheme}: {shown} ({summary.count})"


def rating_input(
    scheme: RatingScheme,
    key: str,
    current: Any = None,
    label: str = "Rating",
    on_change: Callable[..., None] | None = None,
    args: tuple[Any, ...] = (),
    collapsed: bool = True,
) -> Any:
    """The widget for one scheme; returns the value picked (None: nothing yet)."""
    visibility = "collapsed" if collapsed else "visible"
    common: dict[str, Any] = {"key": key, "label_visibility": visibility}
    if on_change is not None:
        common.update(on_change=on_change, args=args)
    if scheme.kind == "boolean":
        default = None if current is None else ("👍" if current else "👎")
        picked = st.segmented_control(label, list(THUMBS), default=default, **common)
        return None if picked is None else THUMBS[picked]
    if scheme.kind == "numeric" and scheme.options:
        return st.segmented_control(label, scheme.options, default=current, **common)
    if scheme.kind == "numeric":
        return st.number_input(
            label,
            min_value=scheme.min,
            max_value=scheme.max,
            step=scheme.step or 1.0,
            value=current,
            **common,
        )
    if scheme.kind == "categorical":
        mode = "multi" if scheme.multiple else "single"
        return st.pills(label, list(scheme.labels), selection_mode=mode, default=current, **common)
    return st.text_input(label, value=current or "", placeholder="A comment", **common)


def widget_value(scheme: RatingScheme, raw: Any) -> Any:
    """A rating widget's session-state value as a rating value (None: nothing picked)."""
    if raw is None or raw == [] or raw == "":
        return None
    if scheme.kind == "boolean":
        return THUMBS.get(raw) if isinstance(raw, str) else raw
    return raw


def grid_cell(
    cell: GridCell | None,
    column: Column,
    scheme: RatingScheme | None,
    rating_key: str | None,
    on_rate: Callable[..., None] | None,
    on_trace: Callable[..., None],
    compact: bool = False,
) -> None:
    """Draw one cell: verdict, output (or error), diff, metrics, scores, ratings, inline
    rating. `compact` shortens long outputs sooner."""
    if cell is None:
        st.caption("(no cell)")
        return
    collapse = COLLAPSE_AT // 2 if compact else COLLAPSE_AT
    verdict_badges(cell)
    if cell.is_error:
        st.badge(f"error: {cell.error_kind or 'unknown'}", icon=":material/error:", color="red")
        if cell.error_message:
            st.text(cell.error_message[:500])
    elif cell.status != "ok":
        st.badge(cell.status, color="gray")
    elif cell.diff is not None:
        if len(cell.output or "") > collapse * 2:
            show_text(cell.output, key=f"out{cell.cell_id}", collapse_at=collapse)
            with st.expander("Differences from the baseline"):
                st.markdown(diff_markdown(cell.diff))
        else:
            st.markdown(diff_markdown(cell.diff))
    elif cell.output is not None or not cell.tool_calls:
        show_text(cell.output, key=f"out{cell.cell_id}", collapse_at=collapse)
    if not cell.is_error:
        show_tool_calls(cell.tool_calls)
    line = st.columns([3, 1], vertical_alignment="center")
    line[0].caption(metrics_line(cell))
    line[1].button(
        "Trace",
        key=f"compare.trace_btn::{cell.cell_id}",
        on_click=on_trace,
        args=(cell.cell_id,),
        type="tertiary",
        help="The full trace of this call",
    )
    if cell.repeats:
        agreement = f"{cell.agreement:.0%}" if cell.agreement is not None else "?"
        with st.expander(f"{len(cell.repeats) + 1} repeats · {agreement} agree"):
            for rep in cell.repeats:
                st.caption(f"repeat {rep.repeat}")
                if rep.is_error:
                    st.badge(f"error: {rep.error_kind}", color="red")
                else:
                    show_text(rep.output, key=f"out{rep.cell_id}")
    assertion_badges(cell)
    if cell.ratings:
        st.caption(escape_markdown(" · ".join(summary_text(r) for r in cell.ratings.values())))
    if scheme is not None and rating_key is not None and on_rate is not None:
        rating_input(
            scheme,
            rating_key,
            cell.mine.get(scheme.name),
            label=f"Rate {column.label}",
            on_change=on_rate,
            args=(cell.cell_id, scheme.name, rating_key),
        )


ROW_VERDICT = "row"  # the Score name of a suite's verdict on the whole cell


def verdict_badges(cell: GridCell) -> None:
    """A green "pass" or red "fail" for the cell, from the suites that scored it."""
    if cell.is_error or not cell.passed:
        return
    verdicts = [v for k, v in cell.passed.items() if k == ROW_VERDICT] or list(cell.passed.values())
    if all(v is True for v in verdicts):
        st.badge("pass", icon=":material/check:", color="green")
    else:
        st.badge("fail", icon=":material/close:", color="red")


def assertion_badges(cell: GridCell) -> None:
    """One badge per assertion: green passed, red failed, gray undecided (with its score)."""
    named = [(n, v) for n, v in cell.scores.items() if n != ROW_VERDICT]
    if not named:
        return
    row = st.container(horizontal=True, gap="small")
    for name, value in named:
        passed = cell.passed.get(name)
        color = "green" if passed else "red" if passed is False else "gray"
        shown = name if value is None or value in (0, 1) else f"{name} {value:.2f}"
        row.badge(escape_markdown(shown), color=color)


def _cached_metrics(trace: CellTrace, cols: list[Any]) -> None:
    """A cached cell: this run paid and waited for nothing; the figures are the original's."""
    cols[2].metric("Cost (this run)", "$0", help="Served from the cache: no call was made")
    cols[3].metric("Latency (this run)", "none", help="Served from the cache: no call was made")
    cols[4].metric("Attempts", "none (cache)", help="No call was sent for this cell")
    cols[5].metric("Cached", "yes")
    source = (
        f"cell {trace.cached_from_cell} of run {trace.cached_from_run}"
        if trace.cached_from_cell is not None
        else "an earlier call"
    )
    cost = "unknown" if trace.cost_usd is None else f"${trace.cost_usd:.5f}"
    latency = "unknown" if trace.latency_ms is None else f"{trace.latency_ms:,.0f} ms"
    st.info(
        f"Served from the cache: the answer of {source}. The original call: cost {cost}, "
        f"latency {latency}, tokens {trace.prompt_tokens or 0} → {trace.completion_tokens or 0}.",
        icon=":material/cached:",
    )


def trace_view(trace: CellTrace) -> None:
    """The whole story of one call."""
    st.caption(
        escape_markdown(
            f"cell {trace.cell_id} · run {trace.run_id} · row {trace.row_id} · repeat {trace.repeat}"
            f" · {trace.variant}"
        )
    )
    cols = st.columns(6)
    cols[0].metric("Status", trace.status)
    cols[1].metric("Tokens", f"{trace.prompt_tokens or 0} → {trace.completion_tokens or 0}")
    if trace.cached:
        _cached_metrics(trace, cols)
    else:
        cols[2].metric("Cost", "unknown" if trace.cost_usd is None else f"${trace.cost_usd:.5f}")
        cols[3].metric(
            "Latency", "—" if trace.latency_ms is None else f"{trace.latency_ms:,.0f} ms"
        )
        cols[4].metric("Attempts", trace.attempts, help=f"{trace.retries} retries")
        cols[5].metric("Cached", "no")
    if trace.error_kind:
        st.badge(f"error: {trace.error_kind}", color="red")
        st.text(trace.error_message or "")
    guardrail = getattr(trace, "guardrail", None)
    if guardrail:
        st.markdown("**Guardrails**")
        st.text(guardrail_line(guardrail) or "")
        if guardrail.get("masked"):
            st.caption("The model was sent these messages with the masked values as placeholders.")
    st.markdown("**Rendered messages**")
    for message in trace.messages:
        st.caption(escape_markdown(str(message.get("role", "?"))))
        st.text(str(message.get("content", "")))
    st.markdown("**Output**")
    if trace.output is not None or not trace.tool_calls:
        show_text(trace.output, key=f"trace{trace.cell_id}")
    if trace.tool_calls:
        st.markdown("**Tool calls**")
        st.code(json.dumps(trace.tool_calls, indent=2, ensure_ascii=False), language="json")
    if trace.finish_reason:
        st.caption(escape_markdown(f"finish reason: {trace.finish_reason}"))
    left, right = st.columns(2)
    with left:
        st.markdown("**Parameters**")
        st.code(json.dumps(trace.parameters, indent=2, ensure_ascii=False), language="json")
    with right:
        st.markdown("**Raw response**")
        raw = trace.raw_response
        st.code(
            raw if isinstance(raw, str) else json.dumps(raw, indent=2, ensure_ascii=False),
            language="json",
        )
    version = f"v{trace.prompt_version}" if trace.prompt_version else "an unsaved draft"
    sha = f" ({trace.prompt_sha[:8]})" if trace.prompt_sha else ""
    st.markdown(f"**Prompt** {escape_markdown(trace.prompt_name)} {version}{sha}")
    if trace.prompt_diff:
        with st.expander(f"Diff from v{trace.previous_version} to {version}"):
            st.code(trace.prompt_diff, language="diff")
    elif trace.prompt_sha:
        st.caption("This is the prompt's first version.")
    if trace.scores:
        st.markdown("**Scores**")
        st.dataframe(trace.scores, hide_index=True)
    if trace.ratings:
        st.markdown("**Ratings** (superseded ones included)")
        st.dataframe(
            [{**r, "value": _format_value(r["value"])} for r in trace.ratings], hide_index=True
        )
