"""`promptyard traces list|show|to-dataset`: the production spans `promptyard collect` stored."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from promptyard.cli._common import emit_json, fail, split_ref, workspace

traces_app = typer.Typer(
    help="Production traces received by `promptyard collect`: list, show, into datasets.",
    no_args_is_help=True,
)

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
BAR_WIDTH = 30
# Control characters from a span (an escape sequence in a model's output) must not drive
# the terminal: they are shown as U+FFFD.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(value: Any) -> str:
    return _CONTROL.sub("\ufffd", "" if value is None else str(value))


def register(app: typer.Typer) -> None:
    """Add the `traces` commands to the `promptyard` app."""
    app.add_typer(traces_app, name="traces")


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO date/time (UTC when no zone), or `15m`, `2h`, `7d` ago."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _RELATIVE.match(text)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return datetime.now(UTC) - delta
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {value!r}: use an ISO date/time (2026-12-01T09:30) or an age (15m, 2h, 7d)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


SINCE = typer.Option(None, "--since", help="From this ISO time, or an age: 15m, 2h, 7d")
UNTIL = typer.Option(None, "--until", help="Up to this ISO time, or an age")
PROMPT = typer.Option(None, "--prompt", "-p", help="NAME, NAME@vN or NAME@LABEL")
MODEL = typer.Option(None, "--model", help="Requested or response model")
USER = typer.Option(None, "--user", help="user.id")
SESSION = typer.Option(None, "--session", help="session.id")
ERRORS = typer.Option(False, "--errors", help="Only spans with status error")
SCORE = typer.Option(None, "--score", help="Feedback scheme name (e.g. thumbs)")
SCORE_MIN = typer.Option(None, "--score-min", help="Lowest feedback value kept")
SCORE_MAX = typer.Option(None, "--score-max", help="Highest feedback value kept")
SEARCH = typer.Option(None, "--search", "-s", help="Text in the output or the input messages")
TRACE = typer.Option([], "--trace", help="Only this trace id; repeat for several")
SCOPE = typer.Option("llm", "--scope", help="llm (LLM calls), roots (every trace's root) or all")


def _filters(
    since: str | None,
    until: str | None,
    prompt: str | None,
    model: str | None,
    user: str | None,
    session: str | None,
    errors: bool,
    score: str | None,
    score_min: float | None,
    score_max: float | None,
    search: str | None,
    trace: list[str],
    scope: str,
) -> Any:
    from promptyard.traces import SpanFilters, SpanScope

    name = version = label = None
    if prompt:
        name, ref = split_ref(prompt.strip())
        if ref is not None:
            if re.fullmatch(r"v\d+", ref):
                version = int(ref[1:])
            elif ref:
                label = ref
            else:
                fail(f"--prompt {prompt!r}: write NAME, NAME@vN or NAME@LABEL")
    if scope not in {s.value for s in SpanScope}:
        fail(f"--scope {scope!r}: use llm, roots or all")
    return SpanFilters(
        since=_moment(since, "--since"),
        until=_moment(until, "--until"),
        prompt_name=name,
        prompt_version=version,
        prompt_label=label,
        model=model,
        user_id=user,
        session_id=session,
        errors_only=errors,
        score_name=score,
        score_min=score_min,
        score_max=score_max,
        text=search,
        trace_ids=tuple(trace),
        scope=SpanScope(scope),
    )


def _cost(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.6f}"


def _num(value: int | float | None, fmt: str = "{}") -> str:
    return "unknown" if value is None else fmt.format(value)


LIST_HEADERS = (
    "started (UTC)", "trace id", "span id", "prompt", "requested model", "response model",
    "in tok", "out tok", "latency", "cost", "user", "session", "status",
)  # fmt: skip


def _list_row(r: Any) -> tuple[str, ...]:
    return (
        r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        r.trace_id,
        r.span_id,
        r.prompt or "-",
        r.request_model or "-",
        r.response_model or "-",
        _num(r.input_tokens),
        _num(r.output_tokens),
        f"{r.duration_ms:,.0f} ms",
        _cost(r.cost_usd),
        r.user_id or "-",
        r.session_id or "-",
        r.status + (" (feedback)" if r.feedback else ""),
    )


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(_plain(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


@traces_app.command("list")
def list_cmd(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    prompt: str | None = PROMPT,
    model: str | None = MODEL,
    user: str | None = USER,
    session: str | None = SESSION,
    errors: bool = ERRORS,
    score: str | None = SCORE,
    score_min: float | None = SCORE_MIN,
    score_max: float | None = SCORE_MAX,
    search: str | None = SEARCH,
    trace: list[str] = TRACE,
    scope: str = SCOPE,
    limit: int = typer.Option(50, "--limit", "-n", help="Spans per page (1 to 1000)"),
    cursor: str | None = typer.Option(None, "--cursor", help="The next page's cursor"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Spans newest first: ids, prompt version, models, tokens, latency, cost, user, session."""
    from promptyard import traces

    filters = _filters(
        since, until, prompt, model, user, session, errors, score, score_min, score_max,
        search, trace, scope,
    )  # fmt: skip
    page = traces.list_spans(workspace(), filters, cursor, limit)
    if as_json:
        emit_json(
            {
                "spans": [r.to_dict() for r in page.spans],
                "next_cursor": page.next_cursor,
                "search_window_exhausted": page.window_exhausted,
            }
        )
        return
    if not page.spans and not page.window_exhausted:
        typer.echo(
            "No spans match."
            if cursor or any(a for a in (since, until, prompt, model, user, session, search))
            else "No spans yet: start `promptyard collect` (OTLP/HTTP on port 4318) and point "
            "your app's OpenTelemetry exporter at it (docs/traces.md)."
        )
    if page.spans:
        typer.echo(_table(LIST_HEADERS, [_list_row(r) for r in page.spans]))
    if page.window_exhausted:
        typer.echo(f"(searched {traces.TEXT_SCAN_WINDOW:,} spans; the next page searches on)")
    if page.next_cursor:
        typer.echo(f"next page: --cursor {page.next_cursor}")


def _bar(offset: float, duration: float, total: float) -> str:
    if total <= 0:
        return "█"
    start = min(BAR_WIDTH - 1, int(offset / total * BAR_WIDTH))
    width = max(1, round(duration / total * BAR_WIDTH))
    width = min(width, BAR_WIDTH - start)
    return (" " * start + "█" * width).ljust(BAR_WIDTH)


def _show_llm(node: Any) -> None:
    echo = typer.echo
    model = node.request_model or "-"
    if node.response_model and node.response_model != node.request_model:
        model += f" -> {node.response_model}"
    echo(f"\n== {node.name} ({node.span_id}) ==")
    echo(f"model: {model}   system: {node.system or '-'}   status: {node.status}")
    if node.status_message:
        echo(_plain(f"error: {node.status_message}"))
    echo(
        f"tokens: {_num(node.input_tokens)} in, {_num(node.output_tokens)} out   "
        f"cost: {_cost(node.cost_usd)}   latency: {node.duration_ms:,.0f} ms   "
        f"time to first token: {_num(node.ttft_ms, '{:,.0f} ms')}"
    )
    if node.prompt_name:
        version = f" v{node.prompt_version}" if node.prompt_version else ""
        label = f" (label {node.prompt_label})" if node.prompt_label else ""
        link = "in this workspace" if node.prompt_link == "linked" else "not in this workspace"
        echo(f"prompt: {node.prompt_name}{version}{label}, {link}")
    if node.parameters:
        echo(f"parameters: {json.dumps(node.parameters, ensure_ascii=False)}")
    for message in node.input_messages:
        echo(_plain(f"[{message.get('role', '?')}] {message.get('content', '')}"))
        if message.get("tool_calls"):
            echo(_plain(f"  tool calls: {json.dumps(message['tool_calls'], ensure_ascii=False)}"))
    echo("--- output ---")
    for message in node.output_messages or [{"role": "assistant", "content": node.output_text}]:
        echo(_plain(f"[{message.get('role', 'assistant')}] {message.get('content') or ''}"))
        if message.get("tool_calls"):
            echo(_plain(f"  tool calls: {json.dumps(message['tool_calls'], ensure_ascii=False)}"))
    if node.finish_reasons:
        echo(f"finish reasons: {', '.join(map(str, node.finish_reasons))}")


def _feedback_line(f: Any) -> str:
    value = f.value_text if f.value is None else f"{f.value:g}"
    on = f" on span {f.span_id}" if f.span_id else ""
    note = f": {f.comment}" if f.comment else ""
    return _plain(f"{f.name} = {value}{on} ({f.source}){note}")


@traces_app.command("show")
def show_cmd(
    trace_id: str = typer.Argument(..., metavar="TRACE_ID", help="32 hex digits"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One trace: the span tree with timing bars, each LLM call in full, its feedback."""
    from promptyard import traces

    detail = traces.trace_detail(workspace(), trace_id)
    if as_json:
        emit_json(detail.to_dict())
        return
    typer.echo(
        f"trace {detail.trace_id}  started {detail.started_at:%Y-%m-%d %H:%M:%S} UTC  "
        f"{detail.duration_ms:,.0f} ms  {len(detail.spans)} spans  "
        f"tokens {_num(detail.input_tokens)} in / {_num(detail.output_tokens)} out  "
        f"cost {_cost(detail.cost_usd)}" + ("  ERROR" if detail.has_error else "")
    )
    if detail.truncated:
        typer.echo(f"(showing the first {len(detail.spans)} spans)")
    for node in detail.spans:
        label = _plain("  " * node.depth + node.name)[:48].ljust(48)
        bar = _bar(node.offset_ms, node.duration_ms, detail.duration_ms)
        mark = " !" if node.status == "error" else ""
        typer.echo(f"{label} |{bar}| +{node.offset_ms:,.0f} ms {node.duration_ms:,.0f} ms{mark}")
    for node in detail.llm_spans:
        _show_llm(node)
    if detail.feedback:
        typer.echo("\n== feedback ==")
        for f in detail.feedback:
            typer.echo(_feedback_line(f))


@traces_app.command("to-dataset")
def to_dataset_cmd(
    name: str = typer.Option(..., "--name", help="Dataset to create, or to add a version to"),
    since: str | None = SINCE,
    until: str | None = UNTIL,
    prompt: str | None = PROMPT,
    model: str | None = MODEL,
    user: str | None = USER,
    session: str | None = SESSION,
    errors: bool = ERRORS,
    score: str | None = SCORE,
    score_min: float | None = SCORE_MIN,
    score_max: float | None = SCORE_MAX,
    search: str | None = SEARCH,
    trace: list[str] = TRACE,
    scope: str = SCOPE,
    reference_from_output: bool = typer.Option(
        False, "--reference-from-output", help="The production output becomes the reference"
    ),
    limit: int = typer.Option(100, "--limit", "-n", help="At most this many spans (newest)"),
    message: str | None = typer.Option(None, "-m", "--message", help="What this version is"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add the matching spans as rows (prompt variables as columns) of a dataset version."""
    from promptyard import traces

    filters = _filters(
        since, until, prompt, model, user, session, errors, score, score_min, score_max,
        search, trace, scope,
    )  # fmt: skip
    added = traces.traces_to_dataset(
        workspace(),
        name,
        filters=filters,
        reference_from_output=reference_from_output,
        limit=limit,
        message=message,
    )
    if as_json:
        emit_json(added.to_dict())
        return
    typer.echo(added.summary())
