"""Run plans: every cell of a run rendered up front.

A plan is prompt versions x models x dataset rows x repeats. `plan_run` renders every
cell's chat messages before anything is sent and reports every missing variable at once;
`promptyard.runs.pricing.estimate` prices a plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptyard.errors import PromptyardError
from promptyard.runs.plan_cells import PlannedCell, PlannedCells, cell_cache_key, variant_prefix
from promptyard.storage.kinds import RunKind
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.datasets.dataset_stream import SlicedRows
    from promptyard.models import ModelEndpoint
    from promptyard.runs.mapping import RowMapper, VariableMapping


class PlanError(PromptyardError):
    """A plan that cannot run: every problem is in `problems`, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        head = self.problems[0] if self.problems else "the plan is empty"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(head + more)


class MissingColumnsError(PlanError):
    """Dataset rows lack columns for variables a prompt needs; nothing was sent."""

    def __init__(self, missing: Sequence[MissingVariables]) -> None:
        self.missing = list(missing)
        super().__init__([m.describe() for m in self.missing])


@dataclass(frozen=True)
class MissingVariables:
    """The variables one prompt version needs that a set of rows lacks."""

    prompt: str
    version: str
    variables: tuple[str, ...]
    row_ids: tuple[str, ...]

    def describe(self) -> str:
        rows = ", ".join(self.row_ids[:5]) + (
            f" and {len(self.row_ids) - 5} more" if len(self.row_ids) > 5 else ""
        )
        names = ", ".join(repr(v) for v in self.variables)
        return (
            f"prompt {self.prompt} {self.version} needs {names}, missing in "
            f"{len(self.row_ids)} row(s): {rows}"
        )


@dataclass
class PlannedVariant:
    """One column of the run: a prompt at one version on one model, with parameters."""

    prompt_name: str
    prompt_sha: str | None
    prompt_version: int | None
    model: str
    endpoint: ModelEndpoint
    parameters: dict[str, Any]
    template_text: str | None = None  # an unsaved edit (playground)

    @property
    def parameters_json(self) -> str:
        """The parameters as stored on the variant, and read back by its workers."""
        return json.dumps(self.parameters, sort_keys=True, default=str)

    @property
    def version_label(self) -> str:
        return f"v{self.prompt_version}" if self.prompt_version else "draft"

    @property
    def label(self) -> str:
        return f"{self.prompt_name} {self.version_label} · {self.model}"


@dataclass
class RunPlan:
    """Everything a run will send, rendered: variants and their cells."""

    variants: list[PlannedVariant]
    cells: Sequence[PlannedCell]  # a PlannedCells: made as read, not held one by one
    dataset_name: str | None = None
    dataset_sha: str | None = None
    slice: dict[str, Any] = field(default_factory=dict)
    repeats: int = 1
    name: str = ""
    kind: str = RunKind.RUN
    guardrails: str | None = None  # a guardrails.yaml policy name: every call goes through it
    mapping: dict[str, Any] | None = None  # runs.mapping.VariableMapping.to_dict(), stored

    @property
    def calls(self) -> int:
        return len(self.cells)


@dataclass(frozen=True)
class RowInput:
    """A dataset row as the engine sees it: its id, the template variables, a reference."""

    row_id: str
    inputs: dict[str, Any]
    reference: str | None = None


def cache_key(
    endpoint: ModelEndpoint, messages_json: str, parameters: dict[str, Any], repeat: int
) -> str:
    """The response-cache key: same model, messages, parameters and repeat index."""
    return cell_cache_key(variant_prefix(endpoint, parameters), messages_json, repeat)


def _row_input(row: RowInput | dict[str, Any], index: int) -> RowInput:
    """A RowInput, or a plain dict row: `id`, its fields as inputs (or a nested `inputs`)."""
    if isinstance(row, RowInput):
        return row
    data = dict(row)
    row_id = str(data.pop("id", index))
    reference = data.get("reference", data.get("expected"))
    nested = data.get("inputs")
    inputs = nested if isinstance(nested, dict) else data
    return RowInput(row_id, dict(inputs), None if reference is None else str(reference))


@dataclass
class VariantSpec:
    """A variant before rendering: a loaded template (saved or an edit) and a model."""

    template: Any  # promptyard.prompts.template.PromptTemplate (or a get_prompt result)
    endpoint: ModelEndpoint
    parameters: dict[str, Any] = field(default_factory=dict)
    prompt_name: str | None = None
    prompt_sha: str | None = None
    prompt_version: int | None = None
    template_text: str | None = None


def build_plan(
    specs: Sequence[VariantSpec],
    rows: Iterable[RowInput | dict[str, Any]],
    *,
    repeats: int = 1,
    dataset_name: str | None = None,
    dataset_sha: str | None = None,
    slice_spec: dict[str, Any] | None = None,
    name: str = "",
    kind: str = RunKind.RUN,
) -> RunPlan:
    """Render every cell of specs x rows x repeats; raise with every missing variable.

    `rows` is read once, as it comes (a list or any iterable of RowInputs or dicts)."""
    if repeats < 1:
        raise PlanError(["repeats must be at least 1"])
    if not specs:
        raise PlanError(["pick at least one prompt and one model"])
    variants = [_variant(spec) for spec in specs]
    return _render(
        specs,
        variants,
        lambda: (_row_input(r, i) for i, r in enumerate(rows)),
        unique=False,
        meta=RunPlan(
            variants, [], dataset_name, dataset_sha, slice_spec or {}, repeats, name, kind
        ),
    )


def _variant(spec: VariantSpec) -> PlannedVariant:
    template = spec.template
    base = dict(getattr(template, "parameters", None) or {})
    tools = getattr(template, "tools", None) or []
    if tools:  # the prompt's tools reach the model (and the cache key) as a parameter
        base["tools"] = [dict(t) for t in tools]
    base.update(spec.parameters)
    version = getattr(template, "version", None)
    return PlannedVariant(
        prompt_name=spec.prompt_name or str(getattr(template, "name", "draft")),
        prompt_sha=spec.prompt_sha or getattr(version, "sha", None),
        prompt_version=spec.prompt_version or getattr(version, "number", None),
        model=spec.endpoint.name,
        endpoint=spec.endpoint,
        parameters=base,
        template_text=spec.template_text,
    )


def _render(
    specs: Sequence[VariantSpec],
    variants: list[PlannedVariant],
    rows: Callable[[], Iterable[RowInput]],
    *,
    unique: bool,
    meta: RunPlan,
    done: Callable[[], bool] | None = None,
) -> RunPlan:
    """One pass over `rows()`, rendering once per (template, row) into a spool; `done`
    (checks needing every row) returns False to ask for a second pass."""
    from promptyard.runs.plan_rows import RenderPass, template_groups

    while True:
        work = RenderPass([s.template for s in specs], [v.label for v in variants])
        again = False

        def finished() -> None:
            nonlocal again
            again = done is not None and not done()

        work.run(rows(), unique=unique, done=finished)
        if not again:
            break
        work.rows.close()
    if work.duplicate is not None:
        raise PlanError([f"row id {work.duplicate!r} appears twice in the dataset slice"])
    if not work.count:
        raise PlanError(["the dataset slice has no rows"])
    if work.missing:
        raise MissingColumnsError(
            [
                MissingVariables(
                    variants[vi].prompt_name, variants[vi].version_label, lacking, tuple(ids)
                )
                for (vi, lacking), ids in work.missing.items()
            ]
        )
    if work.problems:
        raise PlanError(work.problems)
    meta.variants = variants
    meta.cells = PlannedCells(
        [variant_prefix(v.endpoint, v.parameters) for v in variants],
        template_groups([s.template for s in specs]),
        work.rows,
        meta.repeats,
    )
    return meta


def _load_prompt(ws: Workspace, name: str, ref: str | None) -> Any:
    from promptyard import prompts

    return prompts.get_prompt(name, ref=ref, workspace=ws)


def _dataset_rows(
    ws: Workspace, dataset: tuple[str, str | None], slice_spec: Any, mapper: RowMapper
) -> tuple[SlicedRows, Callable[[], Iterator[RowInput]], str | None, dict[str, Any]]:
    """The rows of the dataset slice as a re-startable stream of RowInputs (mapped)."""
    from promptyard import datasets
    from promptyard.datasets.slicing import SliceSpec

    name, ref = dataset
    data = datasets.stream_dataset(ws, name, ref)
    spec = SliceSpec.parse(slice_spec) if isinstance(slice_spec, str) else slice_spec
    sliced = data.slice(spec)

    def rows() -> Iterator[RowInput]:
        for row in sliced:
            reference = sliced.reference
            value = row.get(reference) if reference else None
            inputs = {k: v for k, v in row.items() if k != "id"}
            yield RowInput(row["id"], mapper.inputs(inputs), None if value is None else str(value))

    version = data.version()
    described = {"slice": spec.describe()} if spec is not None else {"slice": "all"}
    if version is not None:
        described["version"] = version.ref
    return sliced, rows, version.sha if version is not None else None, described


def plan_run(
    ws: Workspace,
    prompts: Sequence[tuple[str, str | None]],
    models: Sequence[str],
    dataset: tuple[str, str | None],
    slice: Any = None,
    repeats: int = 1,
    parameters: dict[str, Any] | None = None,
    name: str = "",
    mapping: VariableMapping | None = None,
) -> RunPlan:
    """Plan every prompt version x model x row x repeat; nothing is sent.

    `prompts` holds (name, ref) pairs (ref: vN, sha, label or None for the latest);
    `models` holds names a user picks (models.yaml, simulator, litellm strings);
    `slice` is a datasets SliceSpec or its text form (`head:20`; None: every row). Raises
    MissingColumnsError naming every row that lacks a variable, and UnknownModelError;
    `mapping` (runs.mapping): variables from other columns, constants, prompts' samples.
    """
    from promptyard.models import resolve_model
    from promptyard.runs.mapping import RowMapper, VariableMapping

    if not prompts:
        raise PlanError(["pick at least one prompt"])
    if not models:
        raise PlanError(["pick at least one model"])
    endpoints = [resolve_model(ws, m) for m in models]
    templates = [_load_prompt(ws, n, r) for n, r in prompts]
    if repeats < 1:
        raise PlanError(["repeats must be at least 1"])
    mapper = RowMapper(mapping or VariableMapping(), templates)
    sliced, rows, sha, slice_json = _dataset_rows(ws, dataset, slice, mapper)
    specs = [
        VariantSpec(template=t, endpoint=e, parameters=dict(parameters or {}))
        for t in templates
        for e in endpoints
    ]

    def done() -> bool:
        sliced.finish()  # a filter naming no column of the dataset
        mapper.check()  # a mapped column no row has
        if sliced.reference_settled:
            return True
        # A better reference column showed up after rows were read: read them again.
        sliced.fix_reference(sliced.reference)
        return False

    variants = [_variant(spec) for spec in specs]
    meta = RunPlan(variants, [], dataset[0], sha, slice_json, repeats, name)
    plan = _render(specs, variants, rows, unique=True, meta=meta, done=done)
    plan.mapping = None if mapping is None or mapping.empty else mapping.to_dict()
    return plan


class MissingKeyError(PlanError):
    """A model of the run needs an API key whose variable is unset; nothing was sent."""


def require_keys(ws: Workspace, endpoints: Iterable[ModelEndpoint]) -> None:
    """Raise MissingKeyError naming each model whose key variable is unset."""
    from promptyard.models import missing_key, missing_key_message

    problems = []
    for endpoint in {e.name: e for e in endpoints}.values():
        variable = missing_key(endpoint, ws)
        if variable:
            problems.append(missing_key_message(endpoint, variable))
    if problems:
        raise MissingKeyError(problems)


def completion_bound(parameters: dict[str, Any], default: int) -> int:
    """The max_tokens (or max_completion_tokens) the parameters set, else `default`."""
    value = parameters.get("max_tokens") or parameters.get("max_completion_tokens")
    try:
        return int(value) if value else default
    except (TypeError, ValueError):
        return default
