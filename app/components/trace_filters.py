"""The Traces page's filters (in the sidebar): widgets in, one `SpanFilters` out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import state
import streamlit as st

from promptyard.traces import SpanFilters, SpanScope, TraceOptions

RANGES = {
    "all": "All time",
    "15m": "Last 15 minutes",
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "custom": "Between dates…",
}
_AGES = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "24h": timedelta(days=1),
         "7d": timedelta(days=7)}  # fmt: skip
SCOPES = {
    SpanScope.LLM: "LLM calls",
    SpanScope.ROOTS: "Whole traces (root spans)",
    SpanScope.ALL: "Every span",
}


def reset_paging() -> None:
    """Back to the first page: the cursors belong to the filters they were made under."""
    st.session_state[state.TRACES_CURSORS] = []


def _range() -> tuple[datetime | None, datetime | None]:
    picked = st.selectbox(
        "Time", list(RANGES), format_func=RANGES.get, key=state.TRACES_RANGE, on_change=reset_paging
    )
    if picked in _AGES:
        return datetime.now(UTC) - _AGES[picked], None
    if picked != "custom":
        return None, None
    left, right = st.columns(2)
    since: date | None = left.date_input(
        "From", value=None, key=state.TRACES_SINCE, on_change=reset_paging
    )
    until: date | None = right.date_input(
        "To", value=None, key=state.TRACES_UNTIL, on_change=reset_paging
    )
    start = datetime.combine(since, time.min, UTC) if since else None
    end = datetime.combine(until, time.max, UTC) if until else None
    return start, end


def _choice(label: str, options: list[str], key: str, help: str | None = None) -> str | None:
    if st.session_state.get(key) not in [None, *options]:
        st.session_state[key] = None
    return st.selectbox(
        label,
        [None, *options],
        format_func=lambda v: "any" if v is None else v,
        key=key,
        on_change=reset_paging,
        help=help,
    )


def trace_filters(options: TraceOptions) -> SpanFilters:
    """Draw the filters; the SpanFilters they make (nothing chosen: every LLM call)."""
    scope = st.radio(
        "Show",
        list(SCOPES),
        format_func=SCOPES.get,
        key=state.TRACES_SCOPE,
        on_change=reset_paging,
    )
    since, until = _range()
    prompt = _choice("Prompt", options.prompts, state.TRACES_PROMPT)
    version = None
    if prompt:
        version = st.number_input(
            "Version", min_value=1, value=None, step=1, key=state.TRACES_VERSION,
            on_change=reset_paging, placeholder="any",
        )  # fmt: skip
    label = _choice("Label", options.labels, state.TRACES_LABEL, help="The label the app asked for")
    model = _choice("Model", options.models, state.TRACES_MODEL, help="Requested or response model")
    user = st.text_input(
        "User", key=state.TRACES_USER, on_change=reset_paging, placeholder="user.id"
    )
    session = st.text_input(
        "Session", key=state.TRACES_SESSION, on_change=reset_paging, placeholder="session.id"
    )
    errors = st.toggle("Errors only", key=state.TRACES_ERRORS, on_change=reset_paging)
    score = _choice("Feedback score", options.score_names, state.TRACES_SCORE)
    low = high = None
    if score:
        bounds = st.text_input(
            "Score between",
            key=state.TRACES_SCORE_RANGE,
            on_change=reset_paging,
            placeholder="e.g. 0..0.5 (empty: any value)",
        )
        low, high = _bounds(bounds)
    search = st.text_input(
        "Search",
        key=state.TRACES_SEARCH,
        on_change=reset_paging,
        placeholder="text in outputs and input messages",
    )
    return SpanFilters(
        since=since,
        until=until,
        prompt_name=prompt,
        prompt_version=int(version) if version else None,
        prompt_label=label,
        model=model,
        user_id=user or None,
        session_id=session or None,
        errors_only=bool(errors),
        score_name=score,
        score_min=low,
        score_max=high,
        text=search or None,
        scope=SpanScope(scope),
    )


def _bounds(text: str) -> tuple[float | None, float | None]:
    """`0..0.5`, `..0.5`, `1..` or one value; a bad entry is shown and ignored."""
    text = (text or "").strip()
    if not text:
        return None, None
    lo, sep, hi = text.partition("..")
    try:
        if not sep:
            return float(lo), float(lo)
        return (float(lo) if lo.strip() else None), (float(hi) if hi.strip() else None)
    except ValueError:
        st.error(f"Score between {text!r}: write MIN..MAX, e.g. 0..0.5")
        return None, None
