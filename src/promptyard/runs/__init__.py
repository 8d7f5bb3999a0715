"""Runs: plan prompt versions x models x dataset rows, execute them, follow and resume.

The public face of the part; the modules behind it are planning, pricing, records,
state, limits, executor, jobs, worker and playground.

The names are imported from their modules on first use (PEP 562): `promptyard run` needs
planning, records and the executor, not the playground, the queue or the job table.
"""

from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(["execute_run", "run_job", "run_sync"], "promptyard.runs.executor"),
    **dict.fromkeys(["HeadStart", "start_head"], "promptyard.runs.head_start"),
    **dict.fromkeys(
        [
            "HANDLERS",
            "JobInfo",
            "JobKind",
            "cancel_job",
            "create_job",
            "dispatch",
            "finish_job",
            "get_job",
            "latest_job",
            "mark_job_started",
            "report_progress",
            "resolve_handler",
        ],
        "promptyard.runs.jobs",
    ),
    **dict.fromkeys(
        ["Filled", "MappingError", "Source", "VariableMapping", "fillings", "parse_pairs"],
        "promptyard.runs.mapping",
    ),
    **dict.fromkeys(["format_usd"], "promptyard.runs.money"),
    **dict.fromkeys(
        [
            "MissingColumnsError",
            "MissingKeyError",
            "MissingVariables",
            "PlanError",
            "PlannedCell",
            "PlannedVariant",
            "RowInput",
            "RunPlan",
            "VariantSpec",
            "build_plan",
            "cache_key",
            "plan_run",
            "require_keys",
        ],
        "promptyard.runs.planning",
    ),
    **dict.fromkeys(
        [
            "ColumnOutput",
            "MAX_COLUMNS",
            "MIN_COLUMNS",
            "PlaygroundColumn",
            "PlaygroundSnapshot",
            "playground_snapshot",
            "save_playground_run",
            "start_playground",
            "wait_playground",
        ],
        "promptyard.runs.playground",
    ),
    **dict.fromkeys(["CallSettings", "ResponseFormat"], "promptyard.runs.playground_params"),
    **dict.fromkeys(
        ["add_inputs_to_dataset", "playground_calls"], "promptyard.runs.playground_store"
    ),
    **dict.fromkeys(["Estimate", "estimate"], "promptyard.runs.pricing"),
    **dict.fromkeys(["RunProgress", "run_progress"], "promptyard.runs.progress"),
    **dict.fromkeys(["ServeReport", "queue_run", "serve_queue"], "promptyard.runs.queue"),
    **dict.fromkeys(["cancel_run", "create_run"], "promptyard.runs.records"),
    **dict.fromkeys(["RESULT_FIELDS", "cell_pages", "iter_results"], "promptyard.runs.results"),
    **dict.fromkeys(
        [
            "INTERRUPTED",
            "RunBusyError",
            "RunSummary",
            "claim_run",
            "effective_status",
            "finish_run",
            "get_run",
            "list_runs",
            "pid_alive",
            "run_summary",
            "worker_gone",
        ],
        "promptyard.runs.state",
    ),
    **dict.fromkeys(["log_path", "spawn", "start_run_worker"], "promptyard.runs.worker"),
    **dict.fromkeys(
        ["release_standby", "sensible_workers", "start_standby"], "promptyard.runs.children"
    ),
    **dict.fromkeys(
        ["CellStatus", "JobStatus", "RunKind", "RunStatus"], "promptyard.storage.tables"
    ),
}


if TYPE_CHECKING:  # what type checkers and editors see: the same names as _HOMES
    from promptyard.runs.children import release_standby, sensible_workers, start_standby
    from promptyard.runs.executor import execute_run, run_job, run_sync
    from promptyard.runs.head_start import HeadStart, start_head
    from promptyard.runs.jobs import (
        HANDLERS,
        JobInfo,
        JobKind,
        cancel_job,
        create_job,
        dispatch,
        finish_job,
        get_job,
        latest_job,
        mark_job_started,
        report_progress,
        resolve_handler,
    )
    from promptyard.runs.mapping import (
        Filled,
        MappingError,
        Source,
        VariableMapping,
        fillings,
        parse_pairs,
    )
    from promptyard.runs.money import format_usd
    from promptyard.runs.planning import (
        MissingColumnsError,
        MissingKeyError,
        MissingVariables,
        PlanError,
        PlannedCell,
        PlannedVariant,
        RowInput,
        RunPlan,
        VariantSpec,
        build_plan,
        cache_key,
        plan_run,
        require_keys,
    )
    from promptyard.runs.playground import (
        MAX_COLUMNS,
        MIN_COLUMNS,
        ColumnOutput,
        PlaygroundColumn,
        PlaygroundSnapshot,
        playground_snapshot,
        save_playground_run,
        start_playground,
        wait_playground,
    )
    from promptyard.runs.playground_params import CallSettings, ResponseFormat
    from promptyard.runs.playground_store import add_inputs_to_dataset, playground_calls
    from promptyard.runs.pricing import Estimate, estimate
    from promptyard.runs.progress import RunProgress, run_progress
    from promptyard.runs.queue import ServeReport, queue_run, serve_queue
    from promptyard.runs.records import cancel_run, create_run
    from promptyard.runs.results import RESULT_FIELDS, cell_pages, iter_results
    from promptyard.runs.state import (
        INTERRUPTED,
        RunBusyError,
        RunSummary,
        claim_run,
        effective_status,
        finish_run,
        get_run,
        list_runs,
        pid_alive,
        run_summary,
        worker_gone,
    )
    from promptyard.runs.worker import log_path, spawn, start_run_worker
    from promptyard.storage.tables import CellStatus, JobStatus, RunKind, RunStatus

__all__ = [
    "HANDLERS",
    "INTERRUPTED",
    "MAX_COLUMNS",
    "MIN_COLUMNS",
    "RESULT_FIELDS",
    "CellStatus",
    "ColumnOutput",
    "Estimate",
    "Filled",
    "JobInfo",
    "JobKind",
    "JobStatus",
    "MappingError",
    "MissingColumnsError",
    "MissingKeyError",
    "MissingVariables",
    "PlanError",
    "PlannedCell",
    "PlannedVariant",
    "PlaygroundColumn",
    "PlaygroundSnapshot",
    "RowInput",
    "RunBusyError",
    "RunKind",
    "RunPlan",
    "RunProgress",
    "RunStatus",
    "RunSummary",
    "Source",
    "VariableMapping",
    "ServeReport",
    "VariantSpec",
    "build_plan",
    "cache_key",
    "cancel_job",
    "cancel_run",
    "claim_run",
    "create_job",
    "create_run",
    "dispatch",
    "effective_status",
    "estimate",
    "format_usd",
    "execute_run",
    "HeadStart",
    "start_head",
    "fillings",
    "finish_job",
    "finish_run",
    "get_job",
    "get_run",
    "cell_pages",
    "iter_results",
    "latest_job",
    "list_runs",
    "log_path",
    "mark_job_started",
    "pid_alive",
    "plan_run",
    "parse_pairs",
    "queue_run",
    "playground_snapshot",
    "playground_calls",
    "save_playground_run",
    "add_inputs_to_dataset",
    "CallSettings",
    "ResponseFormat",
    "release_standby",
    "report_progress",
    "require_keys",
    "resolve_handler",
    "run_job",
    "run_progress",
    "run_summary",
    "run_sync",
    "sensible_workers",
    "serve_queue",
    "spawn",
    "start_playground",
    "start_run_worker",
    "start_standby",
    "wait_playground",
    "worker_gone",
]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__)
