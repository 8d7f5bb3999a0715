"""Run forms: what the Runs page builds from its widgets, priced and started in one call.

A page reads its widgets into a `RunRequest`, shows `preview` (the estimate) and calls
`launch`; `version_choices` and `suggest_plan` fill the pickers.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptyard import datasets, prompts, runs
from promptyard.workspace import Workspace

__all__ = [
    "RunRequest",
    "VersionChoice",
    "launch",
    "preview",
    "resume_in_background",
    "suggest_plan",
    "version_choices",
]


@dataclass
class RunRequest:
    """What a person picks on the Runs page; `preview` prices it, `launch` starts it."""

    prompts: list[tuple[str, str | None]]
    models: list[str]
    dataset: tuple[str, str | None]
    slice: str | None = None  # a datasets SliceSpec text: "head:20", "random:50:7", ...
    repeats: int = 1
    concurrency: int = 8
    max_cost: float | None = None
    use_cache: bool = True
    name: str = ""
    mapping: runs.VariableMapping | None = None  # columns, constants, samples per variable

    def plan(self, ws: Workspace) -> runs.RunPlan:
        """The request's plan, rendered; raises PlanError listing every problem."""
        return runs.plan_run(
            ws,
            self.prompts,
            self.models,
            self.dataset,
            slice=self.slice,
            repeats=self.repeats,
            name=self.name,
            mapping=self.mapping,
        )


def preview(ws: Workspace, request: RunRequest) -> runs.Estimate:
    """The estimate of a request's plan; raises PlanError listing every problem."""
    return runs.estimate(request.plan(ws), request.concurrency, ws=ws)


def launch(ws: Workspace, request: RunRequest) -> int:
    """Plan, store and start the run in a worker process; return the run id."""
    run_id = runs.create_run(
        ws,
        request.plan(ws),
        concurrency=request.concurrency,
        max_cost=request.max_cost,
        use_cache=request.use_cache,
    )
    runs.start_run_worker(ws, run_id)
    return run_id


def resume_in_background(ws: Workspace, run_id: int) -> int:
    """Start a worker that sends the run's missing and failed cells; return its pid."""
    return runs.start_run_worker(ws, run_id)


@dataclass(frozen=True)
class VersionChoice:
    """A prompt version a run can use: `spec` is NAME@vN, `label` what a picker lists,
    `chip` the short form a chosen version shows as (name, version, labels)."""

    spec: str
    label: str
    chip: str = ""


def version_choices(ws: Workspace) -> list[VersionChoice]:
    """Every saved version of every prompt, newest first within a prompt."""
    out: list[VersionChoice] = []
    for summary in prompts.list_prompts(ws):
        if summary.error or not summary.versions:
            continue
        history = prompts.prompt_history(summary.name, workspace=ws)
        live = [v for v in history if not v.deleted]
        for v in reversed(live):
            latest = " (latest)" if v is live[-1] else ""
            labels = f" [{', '.join(v.labels)}]" if v.labels else ""
            out.append(
                VersionChoice(
                    f"{summary.name}@v{v.number}",
                    f"{summary.name} v{v.number}{latest}{labels} · {v.message[:40]}",
                    f"{summary.name} v{v.number}{labels}",
                )
            )
    return out


def suggest_plan(ws: Workspace, prefer: str | None = None) -> tuple[str | None, str | None]:
    """A prompt version (NAME@vN) and a dataset whose columns give every variable it needs.

    The New run form starts from it, so a newcomer's first plan can run as it is. With
    `prefer` (the prompt last opened or edited), its latest version, and a dataset that
    fits it when one does.
    """
    infos = datasets.list_datasets(ws)
    choices = version_choices(ws)
    latest: dict[str, str] = {}
    for c in choices:
        latest.setdefault(c.spec.split("@", 1)[0], c.spec)
    summaries = prompts.list_prompts(ws)
    if prefer in latest:
        wanted = next((s for s in summaries if s.name == prefer), None)
        fits = [i.name for i in infos if wanted and set(wanted.variables) <= set(i.columns)]
        return latest[prefer], (fits[0] if fits else (infos[0].name if infos else None))
    for summary in summaries:
        spec = latest.get(summary.name)
        if spec is None or summary.error:
            continue
        for info in infos:
            if set(summary.variables) <= set(info.columns):
                return spec, info.name
    return (choices[0].spec if choices else None), (infos[0].name if infos else None)
