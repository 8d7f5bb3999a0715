"""What the gate decides: a comparison per prompt and model, the verdict and exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.evals.gate.cells import CellFacts, VariantInfo
from promptyard.evals.scoring import CellResult, RunScores, VariantResult
from promptyard.evals.suites import Suite

EXIT_PASS, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


class GateConfigError(PromptyardError):
    """The gate cannot run: a usage or configuration problem (exit code 2)."""


@dataclass
class Comparison:
    prompt: str
    model: str
    current: VariantResult
    baseline: VariantResult | None
    current_desc: str
    baseline_desc: str
    threshold: float
    tolerance: float
    newly_failing: list[CellResult] = field(default_factory=list)

    @property
    def delta(self) -> float | None:
        return None if self.baseline is None else self.current.pass_rate - self.baseline.pass_rate

    @property
    def failed(self) -> bool:
        return self.current.pass_rate < self.threshold - 1e-9

    @property
    def regressed(self) -> bool:
        return self.delta is not None and self.delta < -self.tolerance - 1e-9

    @property
    def verdict(self) -> str:
        if self.failed and self.regressed:
            return "FAIL, REGRESSED"
        if self.failed:
            return "FAIL"
        if self.regressed:
            return "REGRESSED"
        return "PASS"

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "model": self.model,
            "current": {**self.current.to_dict(), "source": self.current_desc},
            "baseline": None
            if self.baseline is None
            else {**self.baseline.to_dict(), "source": self.baseline_desc},
            "delta": self.delta,
            "verdict": self.verdict,
            "newly_failing_rows": [c.row_id for c in self.newly_failing],
        }


@dataclass
class GateResult:
    suite: Suite
    run_id: int
    scores: RunScores
    comparisons: list[Comparison]
    run_status: str
    run_message: str | None
    model_cost_usd: float | None  # None: some call's price is unknown
    custom_code: list[str]
    unscored: list[str] = field(default_factory=list)
    facts: list[CellFacts] = field(default_factory=list)  # every cell, pending ones too
    variants: list[VariantInfo] = field(default_factory=list)
    pairs: list[tuple[VariantInfo, VariantInfo | None]] = field(default_factory=list)
    started_at: datetime | None = None
    baseline: str | None = None  # the --baseline argument
    trust: dict[str, Any] = field(default_factory=dict)  # TrustedInputs.to_dict()

    @property
    def judge_cost_usd(self) -> float:
        return self.scores.judge_cost_usd

    @property
    def problems(self) -> list[str]:
        out = []
        for c in self.comparisons:
            if c.failed:
                out.append(
                    f"{c.prompt} on {c.model}: pass rate {c.current.pass_rate:.0%} is below "
                    f"the suite threshold {c.threshold:.0%}"
                )
            if c.regressed:
                out.append(
                    f"{c.prompt} on {c.model}: pass rate fell from {c.baseline.pass_rate:.0%} "  # type: ignore[union-attr]
                    f"({c.baseline_desc}) to {c.current.pass_rate:.0%} (tolerance {c.tolerance:.0%})"
                )
        out += self.unscored
        if self.run_status not in ("completed",):
            out.append(
                f"the run ended {self.run_status}: {self.run_message or 'not every cell ran'}"
            )
        return out

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return EXIT_PASS if self.passed else EXIT_FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite.name,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "run_id": self.run_id,
            "run_status": self.run_status,
            "threshold": self.suite.threshold,
            "tolerance": self.suite.tolerance,
            "model_cost_usd": self.model_cost_usd,
            "judge_cost_usd": self.judge_cost_usd,
            "problems": self.problems,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "evaluator_errors": self.scores.evaluator_errors,
            "custom_code": self.custom_code,
        }
