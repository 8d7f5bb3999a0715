"""SQLModel tables: runs, their variants and cells, ratings, pairwise votes and scores.

The schema changes only through a migration in `promptyard.storage.migrations`; a test checks
that these models and the migrated database agree column for column.
JSON columns hold text (json.dumps), so SQLite and PostgreSQL store them alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from promptyard.storage.clock import utcnow
from promptyard.storage.kinds import CellStatus, JobStatus, RunKind, RunStatus  # named here too
from promptyard.storage.tables_online import OnlineCursor, SpanScore
from promptyard.storage.tables_payloads import RunMessage, RunRow
from promptyard.storage.tables_robustness import CellPerturbation, RobustnessRun
from promptyard.storage.tables_score_stats import ScoreGeneration, VariantScoreStats
from promptyard.storage.tables_team import SessionAssignment
from promptyard.storage.tables_traces import Span, TraceFeedback
from promptyard.storage.tables_workers import CellLeaseColumns, RateSlot, RunClaimColumns, RunWorker


class Run(RunClaimColumns, table=True):
    """One execution of a plan: prompt versions x models x dataset slice x repeats."""

    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str = Field(default=RunStatus.PENDING, index=True)
    dataset_name: str | None = None
    dataset_sha: str | None = None
    slice_json: str = "{}"  # how rows were chosen: {"kind": "head", "n": 20} ...
    repeats: int = 1
    concurrency: int = 8
    max_cost_usd: float | None = None
    use_cache: bool = True
    total_cells: int = 0
    wall_s: float | None = None  # summed over every execution of this run
    worker_pid: int | None = None
    heartbeat_at: datetime | None = None
    cancel_requested: bool = False
    message: str | None = None  # why it stopped, for failed or budget-stopped runs
    kind: str = RunKind.RUN
    guardrail_policy: str | None = None  # the guardrails.yaml policy its calls go through (m022)
    mapping_json: str | None = None  # how variables were filled (runs.mapping); None: by name
    created_by: str | None = None  # the signed-in identity that started it (m019)


class Variant(SQLModel, table=True):
    """One column of a run: a prompt at one version, on one model, with its parameters."""

    __tablename__ = "variant"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    position: int = 0
    prompt_name: str
    prompt_sha: str | None = None  # None for an unsaved edit (playground)
    prompt_version: int | None = None  # the N of vN
    template_text: str | None = None  # set for an unsaved edit only
    model: str  # the name the user picked: a models.yaml name, simulator model or litellm string
    parameters_json: str = "{}"
    template: int | None = None  # its template group: run_message rows it renders with (m024)

    @property
    def label(self) -> str:
        version = f"v{self.prompt_version}" if self.prompt_version else "draft"
        return f"{self.prompt_name} {version} · {self.model}"


class Cell(CellLeaseColumns, table=True):
    """One model call: a dataset row and a repeat index under one variant."""

    __tablename__ = "cell"

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own on run_id, variant_id or status (m024): longer indexes lead with them.
    run_id: int = Field(foreign_key="run.id")
    variant_id: int = Field(foreign_key="variant.id")
    row_id: str
    row_index: int = 0
    repeat: int = 0
    # Since m024 '' (and reference None): the run's run_row and run_message rows hold them,
    # read through storage.payloads; older cells keep their own copies here.
    inputs_json: str = "{}"
    reference: str | None = None
    messages_json: str = "[]"
    status: str = Field(default=CellStatus.PENDING)
    output: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None  # None means the price is unknown, not free
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    raw_response_json: str | None = None  # without the output text (that is `output`)
    tool_calls_json: str | None = None  # the tool calls answered, OpenAI format (m011)
    output_truncated: bool = False  # the output was over the run's cap and is stored cut
    cached: bool = False
    attempts: int = 0
    cache_key: str | None = Field(default=None, index=True)
    guardrail_json: str | None = None  # what the run's policy did: masked kinds, repairs (m022)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Rating(SQLModel, table=True):
    """A human judgement of one cell under one rating scheme.

    A changed rating is a new row; the old one keeps `superseded_by` pointing at it, so
    every rating's history stays.
    """

    __tablename__ = "rating"

    id: int | None = Field(default=None, primary_key=True)
    cell_id: int = Field(foreign_key="cell.id", index=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    scheme: str
    scheme_version: str | None = None  # commit sha of ratings.yaml
    rater: str
    value_json: str  # the value as given: number, bool, label or list of labels, text
    score: float | None = None  # the value mapped to 0..1 for charts, where it has one
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    superseded_by: int | None = None
    session_id: int | None = None


class PairwiseVote(SQLModel, table=True):
    """A blind A/B choice between two cells for the same row under two variants."""

    __tablename__ = "pairwise_vote"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    row_id: str
    cell_a_id: int = Field(foreign_key="cell.id")
    cell_b_id: int = Field(foreign_key="cell.id")
    variant_a_id: int = Field(foreign_key="variant.id", index=True)
    variant_b_id: int = Field(foreign_key="variant.id", index=True)
    a_shown_left: bool = True  # the side each was shown on, randomized per pair
    choice: str  # "a", "b", "tie", "both_bad"
    rater: str
    session_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class LabelingSession(SQLModel, table=True):
    """A focused rating or pairwise session over one run."""

    __tablename__ = "labeling_session"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    kind: str = "rate"  # "rate" or "pairwise"
    scheme: str | None = None
    raters_per_cell: int = 1
    seed: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = None
    options_json: str = "{}"  # e.g. {"variant_ids": [3, 5]} for a pairwise session


SUITE_ROW_REASON = "weighted score of the suite's assertions"


def score_reason(evaluator: str, reason: str | None) -> str | None:
    """A score row's reason as shown: a suite's per-cell row (evaluator "suite") stores
    none since m024, its reason is always SUITE_ROW_REASON."""
    return SUITE_ROW_REASON if reason is None and evaluator == "suite" else reason


class Score(SQLModel, table=True):
    """An automatic evaluator's score of one cell (`score_reason` reads its reason)."""

    __tablename__ = "score"

    id: int | None = Field(default=None, primary_key=True)
    cell_id: int = Field(foreign_key="cell.id", index=True)
    run_id: int = Field(foreign_key="run.id")  # ix_score_run_name leads with it (m024)
    evaluator: str  # e.g. "contains", "llm-rubric", "custom:my_check"
    name: str  # a display name, unique per suite assertion
    suite: str | None = None
    value: float | None = None
    passed: bool | None = None
    reason: str | None = None
    judge_cost_usd: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class VariantStats(SQLModel, table=True):
    """The dashboard's summary of one variant's finished cells (promptyard.reading.analytics).

    Valid while `signature` matches its run (id, status, finished_at); recomputed when a
    run finishes and lazily when stale. Latencies are of live (uncached) ok calls.
    """

    __tablename__ = "variant_stats"

    variant_id: int = Field(primary_key=True)
    run_id: int
    signature: str
    n_ok: int = 0
    n_error: int = 0
    prompt_tokens_sum: float | None = None
    n_prompt_tokens: int = 0
    completion_tokens_sum: float | None = None
    n_completion_tokens: int = 0
    cost_ok_sum: float | None = None
    n_cost_ok: int = 0
    cost_sum: float | None = None
    n_latency: int = 0
    latency_sum: float | None = None
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_p99: float | None = None
    latency_sample_json: str = "[]"  # latencies of every k-th cell by id, in id order
    computed_at: datetime = Field(default_factory=utcnow)


class VariantRatingStats(SQLModel, table=True):
    """Current human ratings of one variant summed per scheme ("*" pools every scheme),
    for the dashboard. Per run, the row with variant_id 0 holds the signature (rating
    count and max id) the run's rows were computed against."""

    __tablename__ = "variant_rating_stats"

    run_id: int = Field(primary_key=True)
    variant_id: int = Field(primary_key=True)
    scheme: str = Field(primary_key=True)
    signature: str
    n_rated: int = 0  # cells with a current rating
    n_ratings: int = 0
    score_sum: float = 0.0  # of each rated cell's mean score
    score_sum_sq: float = 0.0


class Job(SQLModel, table=True):
    """Background work the worker process runs besides runs, e.g. scoring a run.

    Progress (done/total, cost so far), the heartbeat and a cancel request live here, so
    a page polls it and a resumed job skips what an earlier attempt finished.
    """

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # a promptyard.runs.JobKind
    run_id: int | None = Field(default=None, index=True)  # the run the job works on
    params_json: str = "{}"  # e.g. {"suite": "summarize"}
    status: str = Field(default=JobStatus.PENDING, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    worker_pid: int | None = None
    cancel_requested: bool = False
    done: int = 0
    total: int = 0
    cost_usd: float = 0.0
    message: str | None = None  # why it stopped, for failed or cancelled jobs
    result_json: str = "{}"  # what the job's kind reports at the end


ALL_TABLES = (
    Run,
    Variant,
    Cell,
    Rating,
    PairwiseVote,
    LabelingSession,
    Score,
    VariantStats,
    VariantRatingStats,
    VariantScoreStats,
    ScoreGeneration,
    Job,
    Span,
    TraceFeedback,
    SpanScore,
    OnlineCursor,
    RobustnessRun,
    CellPerturbation,
    RunRow,
    RunMessage,
    RunWorker,
    RateSlot,
    SessionAssignment,
)
