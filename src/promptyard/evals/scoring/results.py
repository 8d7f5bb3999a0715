"""What scoring a run with a suite gives: per cell, per variant, and for the whole run.

A cell's score is the weighted mean of its assertion values; it passes at the suite's
`row_threshold` (or, without one, when every weighted assertion passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptyard.evals.evaluators import Assertion, Grade
from promptyard.evals.suites import Suite
from promptyard.storage.tables import Cell, CellStatus, Variant


@dataclass
class CellResult:
    """One cell's grades under a suite."""

    cell_id: int
    variant_id: int
    row_id: str
    repeat: int
    score: float  # weighted mean of the assertion values, 0..1
    passed: bool
    grades: dict[str, Grade]
    output: str | None = None


@dataclass
class VariantResult:
    variant_id: int
    label: str
    prompt_name: str
    prompt_version: int | None
    prompt_sha: str | None
    model: str
    cells: int
    passed: int
    mean_score: float
    judge_cost_usd: float
    assertion_pass_rates: dict[str, float]
    errors: int  # cells whose call failed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cells if self.cells else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant_id": self.variant_id,
            "label": self.label,
            "prompt": self.prompt_name,
            "version": self.prompt_version,
            "sha": self.prompt_sha,
            "model": self.model,
            "cells": self.cells,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "mean_score": self.mean_score,
            "judge_cost_usd": self.judge_cost_usd,
            "assertions": self.assertion_pass_rates,
            "errors": self.errors,
        }


@dataclass
class RunScores:
    """A run scored by a suite: per variant and per cell."""

    run_id: int
    suite: str
    threshold: float
    variants: list[VariantResult]
    cells: list[CellResult]
    judge_cost_usd: float
    evaluator_errors: list[str]  # distinct evaluator error reasons (judge unparseable, ...)

    def variant(self, variant_id: int) -> VariantResult:
        return next(v for v in self.variants if v.variant_id == variant_id)

    def passed_for(self, variant_ids: Sequence[int] | None = None) -> bool:
        chosen = [v for v in self.variants if variant_ids is None or v.variant_id in variant_ids]
        return bool(chosen) and all(v.pass_rate >= self.threshold - 1e-9 for v in chosen)

    @property
    def passed(self) -> bool:
        return self.passed_for()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "suite": self.suite,
            "threshold": self.threshold,
            "passed": self.passed,
            "judge_cost_usd": self.judge_cost_usd,
            "variants": [v.to_dict() for v in self.variants],
            "evaluator_errors": self.evaluator_errors,
        }


def combine(
    grades: dict[str, Grade], assertions: Sequence[Assertion], row_threshold: float | None
) -> tuple[float, bool]:
    """A cell's weighted score and verdict from its grades."""
    weighted = [(a.weight, grades[a.name]) for a in assertions if a.weight > 0]
    if not weighted:
        weighted = [(1.0, grades[a.name]) for a in assertions]
    total = sum(w for w, _ in weighted)
    score = (
        sum(w * (g.value if g.value is not None else 0.0) for w, g in weighted) / total
        if total
        else 0.0
    )
    if row_threshold is not None:
        return score, score >= row_threshold - 1e-9
    return score, all(g.passed for _, g in weighted)


def summarize(
    run_id: int, suite: Suite, pairs: list[tuple[Cell, Variant]], results: list[CellResult]
) -> RunScores:
    """Per-variant pass rates, mean scores, judge cost and distinct evaluator errors."""
    variants: dict[int, Variant] = {}
    for _, v in pairs:
        assert v.id is not None
        variants.setdefault(v.id, v)
    summaries = []
    errors: list[str] = []
    total_judge = 0.0
    for vid, v in variants.items():
        mine = [r for r in results if r.variant_id == vid]
        cost = sum(g.judge_cost_usd or 0.0 for r in mine for g in r.grades.values())
        total_judge += cost
        rates = {
            a.name: sum(1 for r in mine if r.grades[a.name].passed) / len(mine) if mine else 0.0
            for a in suite.assertions
        }
        failed_calls = sum(
            1 for c, _ in pairs if c.variant_id == vid and c.status == CellStatus.ERROR
        )
        summaries.append(
            VariantResult(
                vid,
                v.label,
                v.prompt_name,
                v.prompt_version,
                v.prompt_sha,
                v.model,
                len(mine),
                sum(1 for r in mine if r.passed),
                sum(r.score for r in mine) / len(mine) if mine else 0.0,
                cost,
                rates,
                failed_calls,
            )
        )
        for r in mine:
            for g in r.grades.values():
                if g.error and g.reason not in errors:
                    errors.append(g.reason)
    return RunScores(
        run_id, suite.name, suite.threshold, summaries, results, total_judge, errors[:20]
    )
