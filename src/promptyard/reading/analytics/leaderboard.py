"""The leaderboard: one row per variant key with its quality, latency, tokens and cost,
and the Dashboard page's data (leaderboard, latency samples, quality across versions).

A *variant key* is (prompt name, prompt version, model): the unit the dashboard compares.
Cells of the same key in several runs are pooled. Version 0 means an unsaved draft.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

import pandas as pd

from promptyard.reading.analytics.aggregates import (
    LATENCY_SAMPLE_CAP,
    _cell_stats,
    _latency_percentiles,
    _latency_samples,
    evaluator_pass_rates,
    human_scores,
    win_rates,
)
from promptyard.reading.analytics.costs import project_monthly_cost
from promptyard.reading.analytics.filters import KEY, Filters, variant_label
from promptyard.reading.analytics.summaries import variant_rows
from promptyard.workspace import Workspace

_WORKERS = max(2, min(6, os.cpu_count() or 2))
T = TypeVar("T")

LEADERBOARD_COLUMNS = [
    "label",
    "prompt_name",
    "prompt_version",
    "model",
    "n_runs",
    "n_cells",
    "n_errors",
    "error_rate",
    "quality",
    "quality_low",
    "quality_high",
    "quality_metric",
    "mean_score",
    "score_ci_low",
    "score_ci_high",
    "n_rated",
    "n_ratings",
    "win_rate",
    "win_ci_low",
    "win_ci_high",
    "bt_score",
    "n_votes",
    "pass_rate",
    "pass_ci_low",
    "pass_ci_high",
    "n_scores",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "latency_mean",
    "n_latency",
    "mean_prompt_tokens",
    "mean_completion_tokens",
    "cost_per_call",
    "cost_per_1k",
    "n_cost_known",
    "total_cost",
    "run_id",
    "variant_id",
]

QUALITY_METRICS = ("human", "evaluator", "win_rate")
METRIC_TITLES = {
    "human": "mean human score",
    "evaluator": "evaluator pass rate",
    "win_rate": "pairwise win rate",
}


def _empty_leaderboard() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in LEADERBOARD_COLUMNS})


def choose_quality_metric(df: pd.DataFrame, metric: str = "auto") -> str:
    """`metric` when given; else human scores if any, else evaluator pass rate, else win rate."""
    if metric != "auto":
        if metric not in QUALITY_METRICS:
            raise ValueError(f"quality metric {metric!r} is not one of {QUALITY_METRICS}")
        return metric
    if "mean_score" in df and df["mean_score"].notna().any():
        return "human"
    if "pass_rate" in df and df["pass_rate"].notna().any():
        return "evaluator"
    if "win_rate" in df and df["win_rate"].notna().any():
        return "win_rate"
    return "human"


def leaderboard(
    ws: Workspace | str, filters: Filters | None = None, quality: str = "auto"
) -> pd.DataFrame:
    """One row per variant key, best quality first (columns: LEADERBOARD_COLUMNS).

    `quality`/`quality_low`/`quality_high` hold the chosen metric (`quality_metric`):
    the human score (t interval), the evaluator pass rate or the pairwise win rate (Wilson
    intervals). `bt_score` is the Bradley-Terry strength on an Elo-like scale.
    `run_id`/`variant_id` name the latest variant of the key, for opening it in Compare.
    """
    return _leaderboard(ws, filters or Filters(), quality)[0]


def _leaderboard(
    ws: Workspace | str, f: Filters, quality: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The leaderboard and the variant rows it was rolled up from."""
    rows, scores, wins, passes = _parallel(
        [
            partial(variant_rows, ws, f),
            partial(human_scores, ws, f),
            partial(win_rates, ws, f),
            partial(evaluator_pass_rates, ws, f),
        ]
    )
    cells = _cell_stats(rows)
    if cells.empty:
        return _empty_leaderboard(), rows
    latency = _latency_percentiles(ws, rows)
    variants = rows
    df = cells
    for part in (
        latency,
        scores,
        wins.drop(columns=["wins", "losses", "ties"]),
        passes.drop(columns=["n_passed", "mean_eval_value"]),
    ):
        df = df.merge(part, on=KEY, how="left") if not part.empty else _add_missing(df, part)
    df["prompt_version"] = df["prompt_version"].astype(int)
    df["error_rate"] = df["n_errors"] / df["n_cells"]
    df["cost_per_1k"] = df["cost_per_call"] * 1000
    for col in ("n_rated", "n_ratings", "n_votes", "n_scores", "n_latency"):
        df[col] = df[col].fillna(0).astype(int)
    run_of = dict(zip(variants["variant_id"].tolist(), variants["run_id"].tolist(), strict=True))
    df["run_id"] = [int(run_of[v]) for v in df["variant_id"].tolist()]
    df["label"] = [
        variant_label(p, v, m)
        for p, v, m in zip(df["prompt_name"], df["prompt_version"], df["model"], strict=True)
    ]
    metric = choose_quality_metric(df, quality)
    source = {
        "human": ("mean_score", "score_ci_low", "score_ci_high"),
        "evaluator": ("pass_rate", "pass_ci_low", "pass_ci_high"),
        "win_rate": ("win_rate", "win_ci_low", "win_ci_high"),
    }[metric]
    df["quality"] = df[source[0]]
    df["quality_low"] = df[source[1]]
    df["quality_high"] = df[source[2]]
    df["quality_metric"] = metric
    df = df.sort_values(
        ["quality", "prompt_name", "prompt_version", "model"],
        ascending=[False, True, False, True],
        na_position="last",
    )
    return df[LEADERBOARD_COLUMNS].reset_index(drop=True), rows


def _parallel(tasks: list[Callable[[], T]]) -> list[T]:
    """Run independent queries at once, each on its own pooled connection.

    The database does the work outside the GIL, so on two or more cores the dashboard
    waits for its slowest query rather than for the sum of them.
    """
    if len(tasks) < 2:
        return [t() for t in tasks]
    with ThreadPoolExecutor(max_workers=min(len(tasks), _WORKERS)) as pool:
        return list(pool.map(lambda t: t(), tasks))


def _add_missing(df: pd.DataFrame, part: pd.DataFrame) -> pd.DataFrame:
    for col in part.columns:
        if col not in KEY:
            df[col] = math.nan
    return df


def versions_of(board: pd.DataFrame, prompt: str) -> pd.DataFrame:
    """The rows of one prompt in a leaderboard, by model then version (drafts left out)."""
    if board.empty:
        return board
    rows = board[(board["prompt_name"] == prompt) & (board["prompt_version"].astype(int) > 0)]
    return rows.sort_values(["model", "prompt_version"]).reset_index(drop=True)


def quality_by_version(
    ws: Workspace | str, prompt: str, filters: Filters | None = None, quality: str = "auto"
) -> pd.DataFrame:
    """Quality of one prompt's versions v1..vN per model (leaderboard rows and columns)."""
    f = filters or Filters()
    return versions_of(leaderboard(ws, replace(f, prompt=prompt), quality=quality), prompt)


@dataclass(frozen=True)
class DashboardData:
    """Everything the Dashboard page draws, computed at once."""

    board: pd.DataFrame  # the leaderboard plus `monthly_cost` and `on_frontier`
    samples: pd.DataFrame  # latency samples per variant key
    by_version: pd.DataFrame  # quality across versions of `versions_prompt`
    versions_prompt: str | None
    calls_per_month: float

    @property
    def empty(self) -> bool:
        return self.board.empty


def dashboard_data(
    ws: Workspace | str,
    filters: Filters | None = None,
    quality: str = "auto",
    calls_per_month: float = 1_000_000,
    versions_prompt: str | None = None,
) -> DashboardData:
    """The leaderboard, latency samples and quality across versions for the filters.

    `versions_prompt` defaults to the filtered prompt, else the prompt with most versions.
    """
    f = filters or Filters()
    board, rows = _leaderboard(ws, f, quality)
    samples = _latency_samples(rows, LATENCY_SAMPLE_CAP)
    if board.empty:
        board = board.assign(monthly_cost=pd.Series(dtype=float), on_frontier=pd.Series(dtype=bool))
        return DashboardData(board, samples, board, None, calls_per_month)
    board = pareto_frontier(project_monthly_cost(board, calls_per_month))
    prompts = board.groupby("prompt_name")["prompt_version"].nunique().sort_values(ascending=False)
    prompt = versions_prompt if versions_prompt in prompts.index else None
    prompt = prompt or f.prompt or str(prompts.index[0])
    return DashboardData(
        board=board,
        samples=samples,
        by_version=versions_of(board, prompt),
        versions_prompt=prompt,
        calls_per_month=calls_per_month,
    )


def pareto_frontier(
    df: pd.DataFrame, quality: str = "quality", cost: str = "cost_per_call"
) -> pd.DataFrame:
    """`df` with an `on_frontier` column: True where no other row has at least the quality
    at no more cost and is strictly better on one of them. Rows lacking either are False."""
    out = df.copy()
    out["on_frontier"] = False
    known = out[out[quality].notna() & out[cost].notna()]
    q = known[quality].to_numpy(dtype=float)
    c = known[cost].to_numpy(dtype=float)
    for idx, qi, ci in zip(known.index, q, c, strict=True):
        dominated = ((q >= qi) & (c <= ci) & ((q > qi) | (c < ci))).any()
        out.at[idx, "on_frontier"] = not bool(dominated)
    return out
