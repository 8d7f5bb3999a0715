"""Robustness runs: originals and their perturbed copies, sent as one run, then compared.

A robustness run is an ordinary run (kind `robustness`, built with `runs.build_plan`)
whose rows are a dataset slice's originals plus one variant per row and perturbation kind;
a variant's row id is the original's id, `~` and the kind. After the run is stored, each
variant cell is linked to the original's cell of the same variant and repeat
(`cell_perturbation`, m023), and the run's settings go in `robustness_run`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from promptyard.robustness.perturb import (
    DEFAULT_TYPO_RATE,
    PerturbationError,
    PerturbationKind,
    Perturbations,
    parse_kinds,
    perturb_rows,
)
from promptyard.runs import (
    PlanError,
    RowInput,
    RunKind,
    RunPlan,
    VariantSpec,
    build_plan,
    create_run,
)
from promptyard.storage import db
from promptyard.storage.handles import CELL
from promptyard.storage.handles import PERTURBATION as LINK
from promptyard.storage.tables_robustness import RobustnessRun
from promptyard.workspace import Workspace


@dataclass
class RobustnessPlan:
    """A run plan of originals and variants, and how the variants were made."""

    plan: RunPlan
    perturbations: Perturbations
    columns: list[str]
    kinds: list[PerturbationKind]
    seed: int
    typo_rate: float
    paraphrase_model: str | None
    originals: int  # rows in the slice

    @property
    def skipped(self) -> dict[str, int]:
        return dict(self.perturbations.skipped)


PROSE_WORDS = 4  # a column whose texts have at least this many words (median) is free text


def _median_words(rows: Sequence[dict[str, Any]], column: str) -> float:
    counts = sorted(len(str(r.get(column) or "").split()) for r in rows)
    return float(counts[len(counts) // 2]) if counts else 0.0


def _text_columns(
    rows: Sequence[dict[str, Any]], templates: Sequence[Any], reference: str | None
) -> list[str]:
    """The columns the prompts use that hold text in the rows (the reference never)."""
    used: dict[str, None] = {}
    for template in templates:
        for name in getattr(template, "variables", []) or []:
            used[str(getattr(name, "name", name))] = None
    textual = [
        c
        for c in used
        if c != reference and c != "id" and any(isinstance(r.get(c), str) for r in rows)
    ]
    # Free text, not names and labels: a typo in "Dana" or "billing" changes what a row means.
    prose = [c for c in textual if _median_words(rows, c) >= PROSE_WORDS]
    if prose or textual:
        return prose or textual
    seen: dict[str, None] = {}
    for r in rows:
        for c, v in r.items():
            if c not in ("id", reference) and isinstance(v, str):
                seen[c] = None
    return list(seen)


def plan_robustness(
    ws: Workspace,
    prompts: Sequence[tuple[str, str | None]],
    models: Sequence[str],
    dataset: tuple[str, str | None],
    *,
    slice: Any = None,
    columns: Sequence[str] | None = None,
    kinds: Sequence[str] | str | None = None,
    seed: int = 0,
    typo_rate: float = DEFAULT_TYPO_RATE,
    paraphrase_model: str | None = None,
    paraphrase_prompt: str = "paraphrase",
    parameters: dict[str, Any] | None = None,
    name: str = "",
) -> RobustnessPlan:
    """Perturb the slice's text columns and plan originals + variants for every prompt
    version x model; nothing is stored or sent to the prompts' models (a paraphrase asks
    `paraphrase_model`, by default the paraphrase prompt's own model).

    `columns` None: the text columns the prompts use. Raises PerturbationError for an
    unknown kind or column, PlanError for a plan that cannot run.
    """
    from promptyard import datasets
    from promptyard.datasets.slicing import SliceSpec
    from promptyard.models import resolve_model
    from promptyard.prompts import get_prompt
    from promptyard.robustness.paraphrase import paraphrase_rows

    if not prompts:
        raise PlanError(["pick at least one prompt"])
    if not models:
        raise PlanError(["pick at least one model"])
    chosen = parse_kinds(kinds)
    endpoints = [resolve_model(ws, m) for m in models]
    templates = [get_prompt(n, r, workspace=ws) for n, r in prompts]
    loaded = datasets.load_dataset(ws, dataset[0], dataset[1])
    spec = SliceSpec.parse(slice) if isinstance(slice, str) else slice
    rows = datasets.select_rows(loaded, spec)
    if columns:
        unknown = [c for c in columns if c not in loaded.columns or c == "id"]
        if unknown:
            raise PerturbationError(
                f"--columns: no column {unknown[0]!r} in dataset {loaded.name} "
                f"(columns: {', '.join(c for c in loaded.columns if c != 'id')})"
            )
        text_columns = list(columns)
    else:
        text_columns = _text_columns(rows, templates, loaded.reference)
    if not text_columns:
        raise PerturbationError(f"dataset {loaded.name} has no text column to perturb")

    made = perturb_rows(rows, text_columns, chosen, seed=seed, typo_rate=typo_rate)
    if PerturbationKind.PARAPHRASE in chosen:
        made.merge(
            paraphrase_rows(
                ws,
                rows,
                text_columns,
                paraphrase_model or _prompt_model(ws, paraphrase_prompt),
                seed=seed,
                prompt=paraphrase_prompt,
            )
        )
    order = {k: i for i, k in enumerate(chosen)}
    by_original: dict[str, list[Any]] = {}
    for variant in made.rows:
        by_original.setdefault(variant.original_id, []).append(variant)
    reference = loaded.reference
    run_rows: list[RowInput] = []
    for row in rows:
        group = [row] + [
            v.row for v in sorted(by_original.get(str(row["id"]), []), key=lambda v: order[v.kind])
        ]
        for r in group:
            ref_value = r.get(reference) if reference else None
            run_rows.append(
                RowInput(
                    str(r["id"]),
                    {k: v for k, v in r.items() if k != "id"},
                    None if ref_value is None else str(ref_value),
                )
            )
    specs = [
        VariantSpec(template=t, endpoint=e, parameters=dict(parameters or {}))
        for t in templates
        for e in endpoints
    ]
    described: dict[str, Any] = {"slice": spec.describe() if spec is not None else "all"}
    if loaded.version is not None:
        described["version"] = loaded.version.ref
    plan = build_plan(
        specs,
        run_rows,
        dataset_name=loaded.name,
        dataset_sha=loaded.version.sha if loaded.version is not None else None,
        slice_spec=described,
        name=name or f"robustness: {', '.join(k.value for k in chosen)}",
        kind=RunKind.ROBUSTNESS,
    )
    return RobustnessPlan(
        plan, made, text_columns, chosen, seed, typo_rate, paraphrase_model, len(rows)
    )


def _prompt_model(ws: Workspace, prompt: str) -> str:
    from promptyard.prompts import get_prompt

    name, _, ref = prompt.partition("@")
    return str(get_prompt(name, ref or None, workspace=ws).model or "sim-smart")


def create_robustness_run(
    ws: Workspace,
    rplan: RobustnessPlan,
    *,
    concurrency: int = 8,
    max_cost: float | None = None,
    use_cache: bool = True,
) -> int:
    """Store the plan as a pending run and link each variant cell to its original; the id."""
    run_id = create_run(
        ws, rplan.plan, concurrency=concurrency, max_cost=max_cost, use_cache=use_cache
    )
    variants = {v.row_id: v for v in rplan.perturbations.rows}

    def link(s: Any) -> None:
        cells = s.execute(
            select(CELL.c.id, CELL.c.variant_id, CELL.c.row_id, CELL.c.repeat).where(
                CELL.c.run_id == run_id
            )
        ).all()
        originals = {
            (c.variant_id, c.row_id, c.repeat): c.id for c in cells if c.row_id not in variants
        }
        links = []
        for c in cells:
            variant = variants.get(c.row_id)
            if variant is None:
                continue
            links.append(
                {
                    "cell_id": c.id,
                    "run_id": run_id,
                    "original_cell_id": originals[(c.variant_id, variant.original_id, c.repeat)],
                    "original_row_id": variant.original_id,
                    "kind": variant.kind.value,
                }
            )
        if links:
            s.execute(LINK.insert(), links)
        s.add(
            RobustnessRun(
                run_id=run_id,
                columns_json=json.dumps(rplan.columns),
                kinds_json=json.dumps([k.value for k in rplan.kinds]),
                seed=rplan.seed,
                typo_rate=rplan.typo_rate,
                paraphrase_model=rplan.paraphrase_model,
                skipped_json=json.dumps(rplan.skipped),
            )
        )

    db.write(ws, link)
    return run_id
