"""Planning and running the gate: one run with the current and baseline variants of every
prompt on every model, scored with the suite, then compared side by side."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators.custom import only_custom_code
from promptyard.evals.gate.cells import VariantInfo, run_facts
from promptyard.evals.gate.result import Comparison, GateConfigError, GateResult
from promptyard.evals.gate.sides import baseline_side, current_side
from promptyard.evals.gate.trust import TrustedInputs, trusted_inputs
from promptyard.evals.scoring import CellResult, RunScores, score_run_async
from promptyard.evals.suites import Suite, load_suite
from promptyard.storage import db
from promptyard.storage.tables import Variant
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class GatePair:
    """Where one (prompt, model) comparison sits in the gate's run plan."""

    prompt: str
    model: str
    current: int  # position of the current variant in the plan
    baseline: int | None  # position of the baseline variant (None: no baseline)
    current_desc: str
    baseline_desc: str


def _rows(ws: Workspace, suite: Suite) -> tuple[list[Any], str | None]:
    from promptyard.datasets import SliceSpec, load_dataset, select_rows
    from promptyard.runs import RowInput

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
    ws: Workspace, suite: Suite, baseline: str | None, models: dict[str, Any] | None = None
) -> tuple[Any, list[GatePair]]:
    """The run plan (current and baseline variants) and, per (prompt, model), where its
    current and baseline variants sit in the plan, with their descriptions.

    `models` maps model names to the endpoints to call (the trusted ones); a name not in
    it is resolved in the workspace."""
    from promptyard.models import resolve_model
    from promptyard.prompts import parse_prompt
    from promptyard.runs import VariantSpec, build_plan

    models = models or {}
    endpoints = [models.get(m) or resolve_model(ws, m) for m in suite.models]
    specs: list[VariantSpec] = []
    pairs: list[GatePair] = []
    for prompt in suite.prompts:
        cur = current_side(ws, prompt)
        base = baseline_side(ws, prompt, baseline)
        where = {"base_dir": ws.prompts_dir, "root": ws.root}  # for ${file:...} references
        cur_t = parse_prompt(cur.text, prompt, source=f"prompts/{prompt}.prompty", **where)
        base_t = None
        if base is not None and base.text != cur.text:
            base_t = parse_prompt(
                base.text, prompt, source=f"prompts/{prompt}.prompty@{base.description}", **where
            )
        for endpoint in endpoints:
            ci = len(specs)
            params = dict(suite.parameters)
            specs.append(
                VariantSpec(cur_t, endpoint, params, prompt, cur.sha, cur.number, cur.template_text)
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
            base_desc = base.description if base else "none (new prompt)"
            pairs.append(GatePair(prompt, endpoint.name, ci, bi, cur.description, base_desc))
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
    *,
    trust_working_tree: bool = False,
    allow_code: bool = False,
    trusted_ref: str | None = None,
) -> GateResult:
    """Run the gate and compare the sides; raise GateConfigError (exit 2) for anything
    wrong before the run starts (nothing has been sent then).

    Models, custom evaluators, judge prompts and gate.yaml come from the trusted commit
    (`trusted_ref`, else `baseline` when it is a git ref, else HEAD); a working tree that
    changes them raises `GateTrustError` unless `trust_working_tree`. Custom Python
    evaluators run only with `allow_code` or when the trusted gate.yaml allows them.
    """
    try:
        loaded = load_suite(ws, suite_name)
        trusted = trusted_inputs(
            ws,
            loaded,
            baseline,
            trusted_ref=trusted_ref,
            trust_working_tree=trust_working_tree,
            allow_code=allow_code,
        )
    except GateConfigError:
        raise
    except PromptyardError as exc:
        raise GateConfigError(str(exc)) from None
    try:
        return await _run_trusted(ws, trusted, baseline, max_cost_usd, on_progress)
    finally:
        trusted.close()


async def _run_trusted(
    ws: Workspace,
    trusted: TrustedInputs,
    baseline: str | None,
    max_cost_usd: float | None,
    on_progress: Callable[[str, int, int], None] | None,
) -> GateResult:
    from promptyard import runs

    suite = trusted.suite
    try:
        plan, pairs = plan_gate(ws, suite, baseline, trusted.endpoints)
        budget = max_cost_usd if max_cost_usd is not None else suite.max_cost_usd
        run_id = runs.create_run(ws, plan, concurrency=suite.concurrency, max_cost=budget)
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

    summary = await runs.execute_run(ws, run_id, on_progress=cells_progress)
    with only_custom_code(trusted.code_files):
        scores = await score_run_async(ws, run_id, suite, on_progress=judge_progress)
    by_position = _variant_ids_by_position(ws, run_id)
    comparisons, unscored = _compare(suite, pairs, scores, by_position)
    facts, started = await asyncio.to_thread(run_facts, ws, run_id)
    variants, sides = _variant_infos(ws, run_id, pairs, by_position)
    return GateResult(
        suite,
        run_id,
        scores,
        comparisons,
        summary.status,
        summary.message,
        summary.cost_usd,
        [p.name for p in trusted.code_files],
        unscored,
        facts=facts,
        variants=variants,
        pairs=sides,
        started_at=started,
        baseline=baseline,
        trust=trusted.to_dict(),
    )


def _variant_infos(
    ws: Workspace, run_id: int, pairs: list[GatePair], by_position: dict[int, int]
) -> tuple[list[VariantInfo], list[tuple[VariantInfo, VariantInfo | None]]]:
    """Each variant of the run with its side, and the (current, baseline) pair per
    (prompt, model) in suite order."""
    with db.session(ws) as s:
        rows = {v.id: v for v in s.exec(select(Variant).where(Variant.run_id == run_id)).all()}
    infos: dict[int, VariantInfo] = {}

    def info(position: int, side: str, source: str) -> VariantInfo:
        v = rows[by_position[position]]
        assert v.id is not None
        found = VariantInfo(
            v.id, v.prompt_name, v.prompt_version, v.prompt_sha, v.model, side, source
        )
        infos[v.id] = found
        return found

    sides = []
    for pair in pairs:
        shared = pair.baseline == pair.current
        cur = info(pair.current, "both" if shared else "current", pair.current_desc)
        base = None
        if pair.baseline is not None:
            base = cur if shared else info(pair.baseline, "baseline", pair.baseline_desc)
        sides.append((cur, base))
    return [infos[k] for k in sorted(infos)], sides


def _compare(
    suite: Suite, pairs: list[GatePair], scores: RunScores, by_position: dict[int, int]
) -> tuple[list[Comparison], list[str]]:
    """A comparison per scored (prompt, model), and a problem for each one left unscored."""
    variant_ids = [v.variant_id for v in scores.variants]
    comparisons = []
    unscored = []
    for pair in pairs:
        cur_id = by_position[pair.current]
        if cur_id not in variant_ids:
            unscored.append(f"{pair.prompt} on {pair.model}: no cell finished, nothing was scored")
            continue
        cur = scores.variant(cur_id)
        bi = pair.baseline
        base = (
            scores.variant(by_position[bi])
            if bi is not None and by_position[bi] in variant_ids
            else None
        )
        comp = Comparison(
            pair.prompt,
            pair.model,
            cur,
            base,
            pair.current_desc,
            pair.baseline_desc,
            suite.threshold,
            suite.tolerance,
        )
        if base is not None and bi != pair.current:
            comp.newly_failing = _newly_failing(scores, cur.variant_id, base.variant_id)
        comparisons.append(comp)
    return comparisons, unscored


def run_gate(
    ws: Workspace,
    suite_name: str,
    baseline: str | None = None,
    max_cost_usd: float | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    *,
    trust_working_tree: bool = False,
    allow_code: bool = False,
    trusted_ref: str | None = None,
) -> GateResult:
    """`run_gate_async` for callers without an event loop (the CLI)."""
    return asyncio.run(
        run_gate_async(
            ws,
            suite_name,
            baseline,
            max_cost_usd,
            on_progress,
            trust_working_tree=trust_working_tree,
            allow_code=allow_code,
            trusted_ref=trusted_ref,
        )
    )


def _variant_ids_by_position(ws: Workspace, run_id: int) -> dict[int, int]:
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
