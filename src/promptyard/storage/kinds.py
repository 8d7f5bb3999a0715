"""The kinds and statuses of stored runs, cells and jobs, importable without SQLAlchemy:
a plan names its kind before the storage layer is loaded (`runs.head_start`)."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run (or a background job) stands; a dead worker's run reads 'interrupted'."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"  # every cell ok
    COMPLETED_WITH_ERRORS = "completed with errors"  # every cell sent, some ended in error
    CANCELLED = "cancelled"
    FAILED = "failed"


class CellStatus(StrEnum):
    """One call's outcome: not sent yet, answered, or ended with an error kind."""

    PENDING = "pending"
    OK = "ok"
    ERROR = "error"


class RunKind(StrEnum):
    """What made a run: the Runs page or CLI, an eval gate, the playground, a judge."""

    RUN = "run"
    EVAL = "eval"
    PLAYGROUND = "playground"
    JUDGE = "judge"
    ROBUSTNESS = "robustness"  # originals and perturbed copies (promptyard.robustness)


# A background job's status has the same values as a run's.
JobStatus = RunStatus
