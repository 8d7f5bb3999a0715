"""What a suite is: the `Suite` record, its error, the keys a suite file may use, and the
naming of its assertions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators import Assertion
from promptyard.evals.evaluators.rubric import RUBRIC_TYPE

SUITE_KEYS = {
    "description": "what the suite checks",
    "prompts": "prompt names (the gate runs the working tree and the baseline of each)",
    "models": "model names",
    "dataset": "dataset name, optionally NAME@REF",
    "slice": "all, head:N, random:N:SEED or filter:EXPR",
    "repeats": "calls per row",
    "parameters": "model parameters for every call (temperature, max_tokens, ...)",
    "assert": "the assertions",
    "threshold": "the fraction of cells that must pass, per variant (default 1.0)",
    "row_threshold": "the weighted score a cell needs to pass (default: every assertion passes)",
    "tolerance": "how far a pass rate may drop below the baseline (default 0.0)",
    "max_cost_usd": "stop the run past this many dollars",
    "concurrency": "calls at once",
    "online": "score live spans: sample, judge_sample, judge_daily_budget_usd, filter",
}
ASSERTION_KEYS = {"type", "value", "threshold", "weight", "name", "metric"}
ASSERTION_OPTIONS = {
    "path",
    "unit",
    "min",
    "max",
    "prompt",
    "provider",
    "model",
    "scale",
    "parameters",
    "config",
    "normalizeUnicode",
}
ROW_SCORE = "row"  # Score.name of the per-cell verdict a suite writes (evaluator "suite")


@dataclass(frozen=True)
class OnlineConfig:
    """A suite's `online:` block: which received LLM spans it scores, and at what rate.

    A filter key holds the names a span must match (any of them); an empty one matches all.
    """

    sample: float = 1.0  # fraction of matching spans the code evaluators score
    judge_sample: float = 0.0  # fraction of matching spans the LLM judges score (<= sample)
    judge_daily_budget_usd: float = 0.0  # judge spend per UTC day, never exceeded
    prompts: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # the requested or the provider-reported model
    services: tuple[str, ...] = ()  # service.name


class SuiteError(PromptyardError):
    """A suite that cannot run: the message names the file and the line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path} line {line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(where + message)


@dataclass(frozen=True)
class Suite:
    """A parsed `evals/NAME.yaml`: what to run and how to score it."""

    name: str
    path: str  # "evals/NAME.yaml"
    description: str = ""
    prompts: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    dataset: str | None = None
    dataset_ref: str | None = None
    slice: str = "all"
    repeats: int = 1
    parameters: dict[str, Any] = field(default_factory=dict)
    assertions: list[Assertion] = field(default_factory=list)
    threshold: float = 1.0
    row_threshold: float | None = None
    tolerance: float = 0.0
    max_cost_usd: float | None = None
    concurrency: int = 8
    online: OnlineConfig | None = None  # set when the suite scores live spans
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line

    def where(self, key: str) -> str:
        """`evals/NAME.yaml line N` for a top-level key (the file alone when unknown)."""
        line = self.lines.get(key)
        return f"{self.path} line {line}" if line else self.path

    def uses_custom_code(self) -> list[str]:
        """The custom evaluator files this suite runs (code from the workspace)."""
        return [str(a.value) for a in self.assertions if a.base_type == "python"]

    def uses_judges(self) -> bool:
        """True when the suite calls an LLM judge (each cell it scores then costs money)."""
        return any(a.base_type == RUBRIC_TYPE for a in self.assertions)

    def to_dict(self) -> dict[str, Any]:
        """The suite as plain data, for `promptyard suites --json`."""
        return {
            "name": self.name,
            "path": self.path,
            "description": self.description,
            "prompts": self.prompts,
            "models": self.models,
            "dataset": self.dataset
            if not self.dataset_ref
            else f"{self.dataset}@{self.dataset_ref}",
            "slice": self.slice,
            "repeats": self.repeats,
            "threshold": self.threshold,
            "row_threshold": self.row_threshold,
            "tolerance": self.tolerance,
            "max_cost_usd": self.max_cost_usd,
            "online": asdict(self.online) if self.online else None,
            "assert": [
                {
                    "type": a.type,
                    "name": a.display_name,
                    "weight": a.weight,
                    "threshold": a.threshold,
                }
                for a in self.assertions
            ],
        }


def name_assertions(assertions: list[Assertion], path: str) -> list[Assertion]:
    """The assertions, each with a unique name (`contains`, `contains #2`, ...).

    Unnamed ones are named after their type; raises SuiteError (naming `path` and the
    line) when two assertions were given the same name.
    """
    explicit: list[str] = []
    for a in assertions:
        if a.name and a.name in explicit:
            raise SuiteError(f"two assertions are named {a.name!r}", path, _line_of(a))
        if a.name:
            explicit.append(a.name)
    out: list[Assertion] = []
    used = set(explicit)
    for a in assertions:
        if not a.name:
            name, n = a.type, 1
            while name in used:
                n += 1
                name = f"{a.type} #{n}"
            used.add(name)
            a = replace(a, name=name)
        out.append(a)
    return out


def _line_of(a: Assertion) -> int | None:
    tail = a.where.rpartition(" line ")[2]
    return int(tail) if tail.isdigit() else None
