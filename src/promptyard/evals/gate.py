"""The CI gate: run a suite on the prompts as they are now and on a baseline, and compare.

`run_gate(ws, "support_reply")` plans one run with, for every prompt of the suite and
every model, the working-tree text (uncommitted edits included) and the baseline version
(`--baseline` ref or label; else the `production` label; else the last commit), sends
it through the engine, scores it with the suite, and decides:

- exit 0: every current variant reaches the suite's pass threshold and none drops more
  than `tolerance` below its baseline;
- exit 1: the suite fails or regresses;
- exit 2: a usage or configuration error (unknown suite, bad assertion, unknown ref...),
  raised as `GateConfigError` before anything is sent.

`table`, `markdown` and `junit_xml` render the result for a terminal, a pull-request
comment and a CI test report.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.evals.scoring import CellResult, RunScores, VariantResult, score_run_async
from promptyard.evals.suites import Suite, load_suite
from promptyard.workspace import Workspace

EXIT_PASS, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


class GateConfigError(PromptyardError):
    """The gate cannot run: a usage or configuration problem (exit code 2)."""


@dataclass(frozen=True)
class PromptSide:
    """One side of a comparison: a prompt's text and where it came from."""

    prompt: str
    text: str
    sha: str | None
    number: int | None
    description: str  # "working tree (uncommitted)", "v3 1a2b3c4d (production)", ...

    @property
    def template_text(self) -> str | None:
        return self.text if self.sha is None else None


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
    model_cost_usd: float
    custom_code: list[str]
    unscored: list[str] = field(default_factory=list)

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


# --- choosing the two sides ---------------------------------------------------------------


def current_side(ws: Workspace, prompt: str) -> PromptSide:
    """The prompt as it is in the working tree; a committed version when unchanged."""
    from promptyard.versioning.store import Store

    store = Store(ws)
    path = f"prompts/{prompt}.prompty"
    file = ws.root / path
    if not file.is_file():
        raise GateConfigError(f"no prompt file {path} in the working tree")
    text = store.read(path)
    history = store.history(path)
    if history and not history[-1].deleted and store.read_version(history[-1]) == text:
        v = history[-1]
        return PromptSide(prompt, text, v.sha, v.number, f"{v.tag} {v.short_sha} (working tree)")
    return PromptSide(prompt, text, None, None, "working tree (uncommitted)")


def baseline_side(ws: Workspace, prompt: str, baseline: str | None) -> PromptSide | None:
    """The baseline version of `prompt`: `baseline` (vN, sha, label or a git branch/tag),
    else its `production` label, else its last commit; None for a never-committed prompt."""
    from promptyard.errors import NotFoundError
    from promptyard.versioning.store import Store

    store = Store(ws)
    path = f"prompts/{prompt}.prompty"
    history = store.history(path)
    if baseline is None:
        labels = store.labels(path)
        if "production" in labels:
            v = labels["production"]
            return PromptSide(
                prompt,
                store.read_version(v),
                v.sha,
                v.number,
                f"{v.tag} {v.short_sha} (production)",
            )
        if not history or history[-1].deleted:
            return None
        v = history[-1]
        return PromptSide(
            prompt, store.read_version(v), v.sha, v.number, f"{v.tag} {v.short_sha} (last commit)"
        )
    try:
        v = store.resolve(path, baseline)
        return PromptSide(
            prompt, store.read_version(v), v.sha, v.number, f"{v.tag} {v.short_sha} ({baseline})"
        )
    except NotFoundError as exc:
        problem = str(exc)
    commit = _git_commit(store, baseline)
    if commit is not None:
        return _git_rev_side(store, prompt, path, baseline, commit)
    if not history:
        return None  # a prompt never committed has no baseline anywhere
    raise GateConfigError(f"baseline {baseline!r} for {path}: {problem}")


def _git_commit(store: Any, rev: str) -> Any:
    import git

    try:
        return store.repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError):
        return None


def _git_rev_side(store: Any, prompt: str, path: str, rev: str, commit: Any) -> PromptSide | None:
    """The file at a git branch, tag or commit (`origin/main`), for CI baselines; None
    when the file does not exist there (a prompt new on this branch)."""
    repo_path = store.repo_path(path)
    try:
        blob = commit.tree / repo_path
    except KeyError:
        return None
    text = blob.data_stream.read().decode("utf-8")
    last = store.repo.git.log("-1", "--format=%H", commit.hexsha, "--", repo_path).strip()
    for v in store.history(path):
        if v.sha == last:
            return PromptSide(prompt, text, v.sha, v.number, f"{v.tag} {v.short_sha} ({rev})")
    return PromptSide(prompt, text, None, None, f"{rev} {commit.hexsha[:8]}")


# --- running ------------------------------------------------------------------------------


def _rows(ws: Workspace, suite: Suite) -> tuple[list[Any], str | None]:
    from promptyard.datasets.api import load_dataset, select_rows
    from promptyard.datasets.slicing import SliceSpec
    from promptyard.runs.planning import RowInput

    if not suite.dataset:
        raise GateConfigError(f"{suite.path}: the suite names no `dataset:` to run on")
    dataset = load_dataset(ws, suite.dataset, suite.dataset_ref)
    picked = select_rows(dataset, SliceSpec.parse(suite.slice))
    rows = []
    for row in picked:
        ref = row.get(dataset.reference) if dataset.reference else row.get("expected")
        if ref is not None and not isinstance(ref, str):
            ref = json.dumps(ref, ensure_ascii=False)
        inputs = {k: v for k, v in row.items() if k != "id"}
        rows.append(RowInput(str(row["id"]), inputs, ref))
    sha = dataset.version.sha if dataset.version is not None else None
    return rows, sha


def plan_gate(
    ws: Workspace, suite: Suite, baseline: str | None
) -> tuple[Any, list[tuple[str, str, int, int | None, str, str]]]:
    """The run plan (current and baseline variants) and, per (prompt, model), the indexes of
    its current and baseline variants with their descriptions."""
    from promptyard.models import resolve_model
    from promptyard.prompts.template import parse_prompt
    from promptyard.runs.planning import VariantSpec, build_plan

    endpoints = [resolve_model(ws, m) for m in suite.models]
    specs: list[VariantSpec] = []
    pairs: list[tuple[str, str, int, int | None, str, str]] = []
    for prompt in suite.prompts:
        cur = current_side(ws, prompt)
        base = baseline_side(ws, prompt, baseline)
        cur_t = parse_prompt(cur.text, prompt, source=f"prompts/{prompt}.prompty")
        base_t = None
        if base is not None and base.text != cur.text:
            base_t = parse_prompt(
                base.text, prompt, source=f"prompts/{prompt}.prompty@{base.description}"
            )
        for endpoint in endpoints:
            ci = len(specs)
            specs.append(
                VariantSpec(
                    cur_t,
                    endpoint,
                    dict(suite.parameters),
                    prompt,
                    cur.sha,
                    cur.number,
                    cur.template_text,
                )
            )
            bi: int | None = None
            if base is not None and base_t is not None:
                bi = len(specs)
                specs.append(
                    VariantSpec(
                        base_t,
                        endpoint,
                        dict(suite.parameters),
                        prompt,
                        base.sha,
                        base.number,
                        base.template_text,
                    )
                )
            elif base is not None:
                bi = ci  # the baseline is the same text: one variant serves both sides
            pairs.append(
                (
                    prompt,
                    endpoint.name,
                    ci,
                    bi,
                    cur.description,
                    base.description if base else "none (new prompt)",
                )
            )
    rows, sha = _rows(ws, suite)
    plan = build_plan(
        specs,
        rows,
        repeats=suite.repeats,
        dataset_name=suite.dataset,
        dataset_sha=sha,
        slice_spec={"spec": suite.slice},
        name=f"eval {suite.name}",
        kind="eval",
    )
    return plan, pairs


async def run_gate_async(
    ws: Workspace,
    suite_name: str,
    baseline: str | None = None,
    max_cost_usd: float | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> GateResult:
    """Run the gate; raise GateConfigError (exit 2) for anything wrong before the run."""
    from promptyard.runs import engine

    try:
        suite = load_suite(ws, suite_name)
        plan, pairs = plan_gate(ws, suite, baseline)
        budget = max_cost_usd if max_cost_usd is not None else suite.max_cost_usd
        run_id = engine.create_run(ws, plan, concurrency=suite.concurrency, max_cost=budget)
    except GateConfigError:
        raise
    except PromptyardError as exc:
        raise GateConfigError(str(exc)) from None

    def cells_progress(done: int, total: int) -> None:
        if on_progress:
            on_progress("calls", done, total)

    def judge_progress(done: int, total: int) -> None:
        if on_progress:
            on_progress("judge", done, total)

    summary = await engine.execute_run(ws, run_id, on_progress=cells_progress)
    scores = await score_run_async(ws, run_id, suite, on_progress=judge_progress)
    variant_ids = [v.variant_id for v in scores.variants]
    by_position = _variant_ids_by_position(ws, run_id)
    comparisons = []
    unscored = []
    for prompt, model, ci, bi, cur_desc, base_desc in pairs:
        cur_id = by_position[ci]
        if cur_id not in variant_ids:
            unscored.append(f"{prompt} on {model}: no cell finished, nothing was scored")
            continue
        cur = scores.variant(cur_id)
        base = (
            scores.variant(by_position[bi])
            if bi is not None and by_position[bi] in variant_ids
            else None
        )
        comp = Comparison(
            prompt, model, cur, base, cur_desc, base_desc, suite.threshold, suite.tolerance
        )
        if base is not None and bi != ci:
            comp.newly_failing = _newly_failing(scores, cur.variant_id, base.variant_id)
        comparisons.append(comp)
    return GateResult(
        suite,
        run_id,
        scores,
        comparisons,
        summary.status,
        summary.message,
        summary.cost_usd,
        suite.uses_custom_code(),
        unscored,
    )


def run_gate(
    ws: Workspace,
    suite_name: str,
    baseline: str | None = None,
    max_cost_usd: float | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> GateResult:
    """`run_gate_async` for callers without an event loop (the CLI)."""
    import asyncio

    return asyncio.run(run_gate_async(ws, suite_name, baseline, max_cost_usd, on_progress))


def _variant_ids_by_position(ws: Workspace, run_id: int) -> dict[int, int]:
    from sqlmodel import select

    from promptyard.storage import db
    from promptyard.storage.tables import Variant

    with db.session(ws) as s:
        return {
            v.position: v.id
            for v in s.exec(select(Variant).where(Variant.run_id == run_id)).all()
            if v.id
        }


def _newly_failing(scores: RunScores, current_id: int, baseline_id: int) -> list[CellResult]:
    base = {(c.row_id, c.repeat): c for c in scores.cells if c.variant_id == baseline_id}
    return [
        c
        for c in scores.cells
        if c.variant_id == current_id
        and not c.passed
        and (b := base.get((c.row_id, c.repeat))) is not None
        and b.passed
    ]


# --- reports ------------------------------------------------------------------------------


def _failed_reasons(
    cell: CellResult, limit: int = 3, weights: dict[str, float] | None = None
) -> str:
    """The failed assertions of a cell, the ones that count (weight > 0) first."""
    weights = weights or {}
    failed = [(name, g) for name, g in cell.grades.items() if not g.passed]
    failed.sort(key=lambda item: weights.get(item[0], 1.0) <= 0)
    bad = [f"{name}: {g.reason}" for name, g in failed]
    return "; ".join(bad[:limit]) + (f" (+{len(bad) - limit} more)" if len(bad) > limit else "")


def _weights(result: GateResult) -> dict[str, float]:
    return {a.name: a.weight for a in result.suite.assertions}


def table(result: GateResult) -> str:
    """The comparison as a plain-text table for a terminal."""
    head = ["prompt", "model", "baseline", "pass", "current", "pass", "change", "verdict"]
    rows = [head]
    for c in result.comparisons:
        rows.append(
            [
                c.prompt,
                c.model,
                c.baseline_desc,
                f"{c.baseline.pass_rate:.0%}" if c.baseline else "-",
                c.current_desc,
                f"{c.current.pass_rate:.0%}",
                f"{c.delta * 100:+.0f} pts" if c.delta is not None else "-",
                c.verdict,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    status = "PASSED" if result.passed else "FAILED"
    lines.append("")
    lines.append(
        f"suite {result.suite.name}: {status} (threshold {result.suite.threshold:.0%}, "
        f"tolerance {result.suite.tolerance:.0%}); run #{result.run_id}; "
        f"cost ${result.model_cost_usd:.4f} + judge ${result.judge_cost_usd:.4f}"
    )
    lines += [f"  - {p}" for p in result.problems]
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(text: str, limit: int = 160) -> str:
    """Text safe inside a Markdown table cell (no markup, no HTML, one line)."""
    one = " ".join(str(text).split())
    if len(one) > limit:
        one = one[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", one)


def markdown(result: GateResult) -> str:
    """A summary for a pull-request comment."""
    icon = "✅" if result.passed else "❌"
    s = result.suite
    out = [
        f"## {icon} Promptyard eval `{s.name}`: {'passed' if result.passed else 'failed'}",
        "",
        f"Threshold {s.threshold:.0%} of cells per prompt and model, tolerance "
        f"{s.tolerance:.0%} against the baseline. Run #{result.run_id}, "
        f"cost ${result.model_cost_usd:.4f} + judge ${result.judge_cost_usd:.4f}.",
        "",
        "| prompt | model | baseline | pass | current | pass | change | verdict |",
        "|---|---|---|---:|---|---:|---:|---|",
    ]
    for c in result.comparisons:
        out.append(
            f"| {md_escape(c.prompt)} | {md_escape(c.model)} | {md_escape(c.baseline_desc)} | "
            f"{f'{c.baseline.pass_rate:.0%}' if c.baseline else '–'} | {md_escape(c.current_desc)} | "
            f"{c.current.pass_rate:.0%} | {f'{c.delta * 100:+.0f} pts' if c.delta is not None else '–'} | "
            f"{'✅' if c.verdict == 'PASS' else '❌'} {c.verdict} |"
        )
    if result.problems:
        out += ["", "**Why it failed**", ""] + [f"- {md_escape(p, 300)}" for p in result.problems]
    out += [
        "",
        "<details><summary>Assertions (pass rate, current vs baseline)</summary>",
        "",
        "| assertion | "
        + " | ".join(md_escape(f"{c.prompt} · {c.model}") for c in result.comparisons)
        + " |",
        "|---|" + "---:|" * len(result.comparisons),
    ]
    for a in s.assertions:
        cells = []
        for c in result.comparisons:
            now = c.current.assertion_pass_rates.get(a.name, 0.0)
            then = c.baseline.assertion_pass_rates.get(a.name) if c.baseline else None
            cells.append(f"{now:.0%}" + (f" (was {then:.0%})" if then is not None else ""))
        out.append(f"| {md_escape(a.name)} | " + " | ".join(cells) + " |")
    out += ["", "</details>"]
    failing = [cell for c in result.comparisons for cell in c.newly_failing]
    if failing:
        out += ["", "**Rows that passed on the baseline and fail now**", ""]
        for cell in failing[:10]:
            out.append(
                f"- `{md_escape(cell.row_id, 60)}`: {md_escape(_failed_reasons(cell, weights=_weights(result)), 300)}"
            )
        if len(failing) > 10:
            out.append(f"- … and {len(failing) - 10} more")
    if result.scores.evaluator_errors:
        out += ["", "**Evaluator errors**", ""] + [
            f"- {md_escape(e, 300)}" for e in result.scores.evaluator_errors[:5]
        ]
    if result.custom_code:
        out += [
            "",
            f"_This suite ran custom Python evaluators from the repository: {', '.join(md_escape(x) for x in result.custom_code)}._",
        ]
    return "\n".join(out) + "\n"


_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    return _XML_BAD.sub("?", text)


def junit_xml(result: GateResult) -> str:
    """JUnit XML: one test case per current cell, one per regression check."""
    s = result.suite
    root = ET.Element("testsuites", name=f"promptyard eval {s.name}")
    for c in result.comparisons:
        cases = [cell for cell in result.scores.cells if cell.variant_id == c.current.variant_id]
        suite_el = ET.SubElement(root, "testsuite", name=_x(f"{s.name}: {c.prompt} on {c.model}"))
        failures = 0
        for cell in cases:
            case = ET.SubElement(
                suite_el,
                "testcase",
                classname=_x(f"{s.name}.{c.prompt}.{c.model}"),
                name=_x(f"row {cell.row_id}" + (f" repeat {cell.repeat}" if cell.repeat else "")),
            )
            if not cell.passed:
                failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=_x(
                        f"score {cell.score:.2f}: {_failed_reasons(cell, weights=_weights(result))}"
                    ),
                )
                failure.text = _x(
                    "\n".join(
                        f"{n}: {'pass' if g.passed else 'FAIL'} ({g.reason})"
                        for n, g in cell.grades.items()
                    )
                )
        check = ET.SubElement(
            suite_el,
            "testcase",
            classname=_x(f"{s.name}.{c.prompt}.{c.model}"),
            name="pass rate against threshold and baseline",
        )
        if c.failed or c.regressed:
            failures += 1
            msg = f"{c.verdict}: pass rate {c.current.pass_rate:.0%}"
            if c.baseline is not None:
                msg += f", baseline {c.baseline.pass_rate:.0%} ({c.baseline_desc})"
            ET.SubElement(check, "failure", message=_x(msg))
        suite_el.set("tests", str(len(cases) + 1))
        suite_el.set("failures", str(failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAIL",
    "EXIT_PASS",
    "Comparison",
    "GateConfigError",
    "GateResult",
    "junit_xml",
    "markdown",
    "run_gate",
    "run_gate_async",
    "table",
]
