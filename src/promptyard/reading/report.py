"""A shareable report of one or more runs: the leaderboard and the dashboard's charts.

`build_report(ws, run_ids, fmt="md" | "html")` returns the text. HTML embeds one inline
copy of plotly.js, so the file opens offline; Markdown holds the tables only.
Names of prompts and models are escaped in both formats.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from sqlalchemy import bindparam, text

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.reading import analytics, charts
from promptyard.reading.analytics import ALL_KINDS, Filters
from promptyard.storage import db
from promptyard.storage.tables import RunStatus
from promptyard.workspace import Workspace

FORMATS = ("md", "html")
DEFAULT_MONTHLY_CALLS = 1_000_000


def _num(value: object, fmt: str, missing: str = "–") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, fmt)


def _usd(value: object, digits: int = 5) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    return f"${float(value):.{digits}g}"  # type: ignore[arg-type]


def leaderboard_table(board: pd.DataFrame, calls_per_month: float) -> pd.DataFrame:
    """The leaderboard as display strings: the columns a report and the CSV export show."""
    metric = analytics.METRIC_TITLES.get(
        str(board["quality_metric"].iloc[0]) if len(board) else "human", "quality"
    )
    rows = []
    for r in board.to_dict("records"):
        interval = ""
        if not _missing(r["quality_low"]):
            interval = f" [{r['quality_low']:.2f}, {r['quality_high']:.2f}]"
        rows.append(
            {
                "variant": r["label"],
                "cells": str(r["n_cells"]),
                metric: _num(r["quality"], ".2f") + interval,
                "rated": str(r["n_rated"]),
                "win rate": _num(r["win_rate"], ".0%"),
                "Bradley-Terry": _num(r["bt_score"], ".0f"),
                "pass rate": _num(r["pass_rate"], ".0%"),
                "errors": _num(r["error_rate"], ".1%"),
                "p50 ms": _num(r["latency_p50"], ".0f"),
                "p95 ms": _num(r["latency_p95"], ".0f"),
                "p99 ms": _num(r["latency_p99"], ".0f"),
                "tokens in/out": f"{_num(r['mean_prompt_tokens'], '.0f')} / "
                f"{_num(r['mean_completion_tokens'], '.0f')}",
                "$ per call": _usd(r["cost_per_call"], 3),
                "$ per 1k calls": _usd(r["cost_per_1k"], 4),
                f"$ at {analytics.format_volume(calls_per_month)}/month": analytics.format_usd(
                    float(r["cost_per_call"]) * calls_per_month
                    if not _missing(r["cost_per_call"])
                    else math.nan
                ),
            }
        )
    return pd.DataFrame(rows)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _runs(ws: Workspace | str, run_ids: Sequence[int]) -> pd.DataFrame:
    stmt = text(
        """SELECT r.id, r.name, r.dataset_name, r.created_at, r.status, r.kind,
               (SELECT COUNT(*) FROM cell c WHERE c.run_id = r.id) AS cells
           FROM run r WHERE r.id IN :ids ORDER BY r.id"""
    ).bindparams(bindparam("ids", expanding=True))
    with db.get_engine(ws).connect() as conn:
        result = conn.execute(stmt, {"ids": list(run_ids)})
        runs = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    missing = sorted(set(run_ids) - set(runs["id"].tolist()))
    if missing:
        names = ", ".join(str(m) for m in missing)
        raise NotFoundError(f"run {names} does not exist (see `promptyard run list`)")
    return runs


def _md_table(df: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _run_table(runs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": runs["id"].astype(str),
            "name": runs["name"].fillna(""),
            "dataset": runs["dataset_name"].fillna("–"),
            "created": [str(c)[:16] for c in runs["created_at"]],
            "status": runs["status"],
            "cells": runs["cells"].astype(str),
        }
    )


_CSS = """
body { font-family: Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
       color: #1f2937; margin: 2rem auto; max-width: 1180px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta, .note { color: #6b7280; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .35rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f9fafb; font-weight: 600; }
.chart { margin: 1rem 0; }
"""


def build_report(
    ws: Workspace | str,
    run_ids: Sequence[int],
    fmt: str = "md",
    scheme: str | None = None,
    calls_per_month: float = DEFAULT_MONTHLY_CALLS,
) -> str:
    """The report of `run_ids` as Markdown or a standalone HTML page.

    Raises NotFoundError for a run id that does not exist, PromptyardError for a bad format.
    """
    if fmt not in FORMATS:
        raise PromptyardError(f"report format {fmt!r} is not one of: {', '.join(FORMATS)}")
    if not run_ids:
        raise PromptyardError("name at least one run id (see `promptyard run list`)")
    ids = sorted({int(r) for r in run_ids})
    runs = _runs(ws, ids)
    filters = Filters(run_ids=tuple(ids), scheme=scheme, kinds=ALL_KINDS)
    board = analytics.leaderboard(ws, filters)
    table = leaderboard_table(board, calls_per_month)
    title = f"Promptyard report: run{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    unfinished = [
        str(r)
        for r, s in zip(runs["id"], runs["status"], strict=True)
        if s in (RunStatus.PENDING, RunStatus.RUNNING)
    ]
    notes = []
    if unfinished:
        notes.append(f"Run {', '.join(unfinished)} had not finished when this was written.")
    if board.empty:
        notes.append("These runs have no finished cells yet.")
    elif len(board):
        notes.append(analytics.monthly_cost_sentence(board.iloc[0], calls_per_month))
    notes.append(
        "Latency percentiles are nearest-rank over successful calls not served from the "
        "cache; intervals are 95%."
    )
    if fmt == "md":
        parts = [
            f"# {title}",
            f"Generated {generated}.",
            "## Runs",
            _md_table(_run_table(runs)),
            "## Leaderboard",
            _md_table(table) if len(table) else "_No finished cells._",
            *notes,
            "> Charts: the HTML report has them "
            f"(`promptyard report {' '.join(map(str, ids))} --format html --out report.html`).",
        ]
        return "\n\n".join(parts) + "\n"
    figures = _figures(ws, board, filters, calls_per_month)
    chart_html = "\n".join(
        f'<div class="chart">{fig.to_html(full_html=False, include_plotlyjs=False)}</div>'
        for fig in figures
    )
    note_html = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>{html.escape(title)}</h1><p class="meta">Generated {generated}.</p>
<h2>Runs</h2>{_html_table(_run_table(runs))}
<h2>Leaderboard</h2>{_html_table(table) if len(table) else "<p>No finished cells.</p>"}
{note_html}
<h2>Charts</h2>
{chart_html}
</body></html>
"""


def _figures(
    ws: Workspace | str, board: pd.DataFrame, filters: Filters, calls_per_month: float
) -> list[go.Figure]:
    figs: list[go.Figure] = [charts.leaderboard_chart(board)]
    if len(board):
        for prompt in sorted(board["prompt_name"].unique()):
            versions = board[board["prompt_name"] == prompt]["prompt_version"].nunique()
            if versions > 1:
                by_version = analytics.quality_by_version(ws, str(prompt), filters)
                figs.append(charts.quality_by_version_chart(by_version))
    samples = analytics.latency_samples(ws, filters)
    figs += [
        charts.latency_chart(samples, board),
        charts.cost_chart(board, calls_per_month),
        charts.quality_cost_chart(board),
        charts.tokens_chart(board),
    ]
    return figs
