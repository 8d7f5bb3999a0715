"""Promptyard: git-versioned prompts, runs across models, ratings, judges and charts.

The public API, one area per block of `__all__`. Each name lives in its part
(`promptyard.prompts`, `promptyard.runs`, ...) and is imported from there on first use, so
`import promptyard` stays cheap and a command pays only for the parts it touches:

    import promptyard

    prompt = promptyard.get_prompt("summarize", label="production")  # or bundle="FILE"
    model = promptyard.resolve_model(prompt)  # base_url, model, api_key_env, parameters
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.workspace import Workspace, current_workspace

__version__ = "0.1.0"

# name -> the part that owns it (or its module). The parts are subpackages, as are PARTS.
_HOMES: dict[str, str] = {
    # prompts: the Prompty files and the prompt API
    **dict.fromkeys(
        [
            "BundleError",
            "MissingVariablesError",
            "PromptTemplate",
            "TemplateError",
            "delete_prompt",
            "diff_prompt",
            "get_prompt",
            "label_prompt",
            "list_prompts",
            "parse_prompt",
            "prompt_history",
            "render_prompt",
            "restore_prompt",
            "save_prompt",
        ],
        "prompts",
    ),
    # versioning: git underneath
    **dict.fromkeys(["ConflictError", "Store", "Version", "init_workspace"], "versioning"),
    # datasets
    **dict.fromkeys(
        ["Dataset", "DatasetError", "SliceSpec", "import_dataset", "list_datasets", "load_dataset"],
        "datasets",
    ),
    # models: endpoints, calls, prices, the simulator
    **dict.fromkeys(
        [
            "Completion",
            "ModelCall",
            "ModelEndpoint",
            "complete",
            "estimate_cost",
            "load_catalog",
            "ResolvedModel",
            "start_simulator",
        ],
        "models",
    ),
    # the application's view of a model (models.resolve_model is the engine's)
    "resolve_model": "models.resolve",
    # runs: plan, run, read back
    **dict.fromkeys(
        [
            "RunPlan",
            "RunSummary",
            "create_run",
            "execute_run",
            "iter_results",
            "list_runs",
            "plan_run",
            "run_summary",
            "run_sync",
        ],
        "runs",
    ),
    # evals: evaluators, suites, scoring, the CI gate
    **dict.fromkeys(
        ["Assertion", "Grade", "evaluate", "load_suite", "run_gate", "score_run"], "evals"
    ),
    # ratings: people's judgements
    **dict.fromkeys(["RatingScheme", "load_schemes", "pairwise_results", "rate_cell"], "ratings"),
    # traces: what production sends back (the light client; the collector is in the part)
    "feedback": "traces",
    # guardrails: an application's own calls under a guardrails.yaml policy
    "guard": "guardrails",
    # reading: what the pages and reports show
    **dict.fromkeys(["build_report", "cell_trace", "dashboard_data", "leaderboard"], "reading"),
}

PARTS = (
    "datasets",
    "evals",
    "models",
    "prompts",
    "ratings",
    "reading",
    "runs",
    "stats",
    "storage",
    "versioning",
)

__all__ = [
    "NotFoundError",
    "PromptyardError",
    "Workspace",
    "__version__",
    "current_workspace",
    *sorted(_HOMES),
    *PARTS,
]


def __getattr__(name: str) -> Any:
    """Import a public name (or a part) from where it lives, on first use."""
    if name in PARTS:
        module = importlib.import_module(f"promptyard.{name}")
    elif name in _HOMES:
        module = getattr(importlib.import_module(f"promptyard.{_HOMES[name]}"), name)
    else:
        raise AttributeError(f"module 'promptyard' has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and editors see; the same names as above
    from promptyard import (
        datasets,
        evals,
        models,
        prompts,
        ratings,
        reading,
        runs,
        stats,
        storage,
        versioning,
    )
    from promptyard.datasets import (
        Dataset,
        DatasetError,
        SliceSpec,
        import_dataset,
        list_datasets,
        load_dataset,
    )
    from promptyard.evals import Assertion, Grade, evaluate, load_suite, run_gate, score_run
    from promptyard.guardrails import guard
    from promptyard.models import (
        Completion,
        ModelCall,
        ModelEndpoint,
        ResolvedModel,
        complete,
        estimate_cost,
        load_catalog,
        start_simulator,
    )
    from promptyard.models.resolve import resolve_model
    from promptyard.prompts import (
        BundleError,
        MissingVariablesError,
        PromptTemplate,
        TemplateError,
        delete_prompt,
        diff_prompt,
        get_prompt,
        label_prompt,
        list_prompts,
        parse_prompt,
        prompt_history,
        render_prompt,
        restore_prompt,
        save_prompt,
    )
    from promptyard.ratings import RatingScheme, load_schemes, pairwise_results, rate_cell
    from promptyard.reading import build_report, cell_trace, dashboard_data, leaderboard
    from promptyard.runs import (
        RunPlan,
        RunSummary,
        create_run,
        execute_run,
        iter_results,
        list_runs,
        plan_run,
        run_summary,
        run_sync,
    )
    from promptyard.traces import feedback
    from promptyard.versioning import ConflictError, Store, Version, init_workspace
