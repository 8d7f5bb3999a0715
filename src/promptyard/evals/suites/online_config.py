"""Reading a suite's `online:` block (live spans it scores), every error naming the line."""

from __future__ import annotations

import math
from typing import Any

from promptyard.evals.suites.model import OnlineConfig, SuiteError

ONLINE_KEYS = {
    "sample": "fraction of matching spans the code evaluators score (default 1.0)",
    "judge_sample": "fraction of matching spans the LLM judges score (default 0, at most sample)",
    "judge_daily_budget_usd": "judge spend per UTC day, never exceeded (default 0: no judges)",
    "filter": "prompt, label, model, service: a name or a list of names each",
}
FILTER_KEYS = ("prompt", "label", "model", "service")


def _fraction(value: Any, what: str, path: str, line: int | None) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or math.isnan(value) or not 0 <= value <= 1:
        raise SuiteError(f"online.{what} must be a number 0..1, not {value!r}", path, line)
    return float(value)


def _names(value: Any, what: str, path: str, line: int | None) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise SuiteError(f"online.filter.{what} must be a name or a list of names", path, line)
    return tuple(v.strip() for v in items)


def parse_online(
    value: Any, prompts: list[str], path: str, line: int | None
) -> OnlineConfig | None:
    """The `online:` block as an OnlineConfig (None when absent or false).

    `online: true` scores every span of the suite's prompts with its code evaluators; the
    prompt filter defaults to the suite's `prompts:`. Raises SuiteError on a bad key or value.
    """
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise SuiteError("online must be a mapping (sample, judge_sample, ...) or true", path, line)
    for key in value:
        if key not in ONLINE_KEYS:
            known = ", ".join(ONLINE_KEYS)
            raise SuiteError(f"unknown online key {key!r} (known: {known})", path, line)
    sample = _fraction(value.get("sample", 1.0), "sample", path, line)
    judge_sample = _fraction(value.get("judge_sample", 0.0), "judge_sample", path, line)
    budget = value.get("judge_daily_budget_usd", 0.0)
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not budget >= 0:
        raise SuiteError(
            f"online.judge_daily_budget_usd must be a number >= 0, not {budget!r}", path, line
        )
    if judge_sample > 0 and budget == 0:
        raise SuiteError(
            "online.judge_sample needs online.judge_daily_budget_usd above 0 (judges cost money)",
            path,
            line,
        )
    raw_filter = value.get("filter") or {}
    if not isinstance(raw_filter, dict):
        raise SuiteError("online.filter must be a mapping (prompt, label, ...)", path, line)
    for key in raw_filter:
        if key not in FILTER_KEYS:
            known = ", ".join(FILTER_KEYS)
            raise SuiteError(f"unknown online.filter key {key!r} (known: {known})", path, line)
    got = {k: _names(raw_filter[k], k, path, line) for k in FILTER_KEYS if k in raw_filter}
    return OnlineConfig(
        sample=sample,
        judge_sample=min(judge_sample, sample),
        judge_daily_budget_usd=float(budget),
        prompts=got.get("prompt", tuple(prompts)),
        labels=got.get("label", ()),
        models=got.get("model", ()),
        services=got.get("service", ()),
    )
