"""The only place that names st.session_state keys.

Keys hold ids and names, never objects: the truth lives in git and the database.
Each page has its own section; add a key here, then use the constant.
"""

from __future__ import annotations

# --- shared -------------------------------------------------------------------------
RATER_NAME = "rater_name"
# A copy of the typed name that is not a widget's: Streamlit drops a widget's value when
# the page is left after fragment-only reruns (a keyboard rating), and the name must follow.
RATER_NAME_KEPT = "rater_name.kept"

# --- prompts page -------------------------------------------------------------------
PROMPT_SELECTED = "prompts.selected"
PROMPT_SEARCH = "prompts.search"
PROMPT_BODY = "prompts.body"
PROMPT_BASE_SHA = "prompts.base_sha"
PROMPT_EDIT_FOR = "prompts.edit_for"
PROMPT_SAMPLES = "prompts.samples"
PROMPT_FLASH = "prompts.flash"
PROMPT_NEW_NAME = "prompts.new_name"
PROMPT_DIFF_A = "prompts.diff_a"
PROMPT_DIFF_B = "prompts.diff_b"
PROMPT_PLAIN_EDITOR = "prompts.plain_editor"
PROMPT_MESSAGE = "prompts.message"
PROMPT_LABEL_NAME = "prompts.label_name"
PROMPT_LABEL_REF = "prompts.label_ref"
PROMPT_RESTORE_REF = "prompts.restore_ref"


def prompt_editor_key(name: str, base_sha: str | None, generation: int = 0) -> str:
    """The editor widget's key: a new one per prompt, base version and reload."""
    return f"prompts.editor::{name}::{base_sha or 'new'}::{generation}"


def prompt_field_key(field: str, name: str, base_sha: str | None, generation: int = 0) -> str:
    return f"prompts.field::{field}::{name}::{base_sha or 'new'}::{generation}"


PROMPT_GENERATION = "prompts.generation"
PROMPT_TAB = "prompts.tab"  # the open tab of the prompt page (st.tabs with a key)


def prompt_list_key(signature: str) -> str:
    return f"prompts.list::{signature}"


def for_version(key: str, latest_sha: str) -> str:
    """A picker key that starts fresh (on the newest version) after every save."""
    return f"{key}::{latest_sha}"


# --- datasets page ------------------------------------------------------------------
DATASET_SELECTED = "datasets.selected"  # dataset name
DATASET_REF = "datasets.ref"  # the version shown: "latest" or a sha
DATASET_PAGE = "datasets.page"  # 1-based page of the rows view
DATASET_PAGE_SIZE = "datasets.page_size"
DATASET_FILTER = "datasets.filter"  # filter expression of the rows view
DATASET_FLASH = "datasets.flash"
DATASET_EDIT_MESSAGE = "datasets.edit_message"
DATASET_IMPORT_NAME = "datasets.import_name"
DATASET_IMPORT_TEXT = "datasets.import_text"
DATASET_IMPORT_COLUMNS = "datasets.import_columns"
DATASET_IMPORT_ID = "datasets.import_id"
DATASET_IMPORT_REFERENCE = "datasets.import_reference"
DATASET_IMPORT_MESSAGE = "datasets.import_message"
DATASET_DIFF_A = "datasets.diff_a"
DATASET_DIFF_B = "datasets.diff_b"
DATASET_LABEL_NAME = "datasets.label_name"
DATASET_LABEL_REF = "datasets.label_ref"
DATASET_FIT_PROMPT = "datasets.fit_prompt"
DATASET_REFERENCE = "datasets.reference"
DATASET_VIEW = "datasets.view"  # rows | import | history | fit
DATASET_PENDING = "datasets.pending"  # {"selected": name, "view": view} set before a rerun
DATASET_IMPORT_SOURCE = "datasets.import_source"  # upload | paste
DATASET_IMPORT_FILE = "datasets.import_file"
DATASET_RESTORE_REF = "datasets.restore_ref"


def dataset_import_key(field: str, source: str) -> str:
    """Import widgets whose options depend on the file (columns, id, reference)."""
    return f"datasets.import.{field}::{source}"


def dataset_editor_key(name: str, sha: str | None, page: int, filter_text: str) -> str:
    """The rows editor's key: a fresh editor per dataset version, page and filter."""
    return f"datasets.editor::{name}::{sha or 'new'}::{page}::{filter_text}"


def dataset_pick_key(prefix: str, field: str) -> str:
    """A key of the shared dataset picker (components/dataset_picker.py) on one page.

    `field` is one of name, ref, slice_kind, slice_n, slice_seed, slice_filter.
    """
    return f"{prefix}.dataset_pick.{field}"


# --- playground page ----------------------------------------------------------------
PLAY_PROMPT = "playground.prompt"  # the prompt whose inputs the columns share
PLAY_COLUMNS = "playground.columns"  # how many columns (2 to 6)
PLAY_SESSION = "playground.session"  # id of the running/finished side-by-side call
PLAY_FLASH = "playground.flash"
PLAY_GUARDRAILS = "playground.guardrails"  # the guardrails.yaml policy the call goes through
PLAY_MODE = "playground.mode"  # "Compare" (one answer per column) or "Chat" (a conversation each)
PLAY_FOR = "playground.for"  # the prompt the columns were set up for (a switch resets them)
PLAY_CHAT = "playground.chat"  # the chat box: a message for every column
PLAY_DATASET = "playground.dataset"  # the dataset the inputs are added to
PLAY_NEW_DATASET = "playground.new_dataset"  # or the name of a new one


def play_input(variable: str) -> str:
    """The key of the shared input `variable`."""
    return f"playground.input.{variable}"


def play_column(field: str, index: int) -> str:
    """The key of column `index`'s `field` (version, pick, model, edit_for, text, save_message,
    temperature, max_tokens, top_p, seed, format)."""
    return f"playground.col{index}.{field}"


# --- runs page ----------------------------------------------------------------------
RUNS_SELECTED = "runs.selected"  # the run id shown in the progress panel
RUNS_PICK = "runs.pick"  # the picker widget, one key per set of run statuses
RUNS_PROMPTS = "runs.prompts"  # ["name@vN", ...]
RUNS_MODELS = "runs.models"
RUNS_REPEATS = "runs.repeats"
RUNS_CONCURRENCY = "runs.concurrency"
RUNS_BUDGET = "runs.budget"
RUNS_USE_CACHE = "runs.use_cache"
RUNS_FLASH = "runs.flash"


def runs_variable_key(dataset: str, variable: str) -> str:
    """The New run form's choice of where `variable` comes from (per dataset: its columns)."""
    return f"runs.variable::{dataset}::{variable}"


def runs_constant_key(variable: str) -> str:
    """The New run form's constant value of `variable`."""
    return f"runs.constant::{variable}"


# --- compare page -------------------------------------------------------------------
COMPARE_RUN = "compare.run"
COMPARE_RUN_B = "compare.run_b"
COMPARE_PAGE = "compare.page"
COMPARE_PAGE_SIZE = "compare.page_size"
COMPARE_BASELINE = "compare.baseline"
COMPARE_SCHEME = "compare.scheme"
COMPARE_TRACE = "compare.trace_cell"
COMPARE_ERRORS_ONLY = "compare.errors_only"
COMPARE_DIFFER_ONLY = "compare.differ_only"
COMPARE_RATED = "compare.rated"
COMPARE_LOW_RATED = "compare.low_rated"
COMPARE_SEARCH = "compare.search"
COMPARE_FLASH = "compare.flash"
COMPARE_COMPACT = "compare.compact"
COMPARE_FOCUS = "compare.focus"  # the cell id the rating keys rate
COMPARE_UNDO = "compare.undo"  # rating ids given with keys in this visit, newest last
# Hand-off from other pages (the Dashboard): open Compare on this run, this variant pinned.
COMPARE_RUN_ID = "compare.open_run_id"
COMPARE_VARIANT_ID = "compare.open_variant_id"
COMPARE_SUITE = "compare.suite"
COMPARE_SCORE = "compare.score"
COMPARE_SCORED = "compare.scored"  # (run, suite, job start) already announced


def for_run(key: str, run_id: int) -> str:
    """A widget key per run, so a picker starts fresh when another run is chosen."""
    return f"{key}::{run_id}"


def compare_rating_key(cell_id: int, scheme: str, rater: str) -> str:
    """The inline rating widget of one cell, per scheme and rater."""
    return f"compare.rate::{scheme}::{cell_id}::{rater}"


# --- rate page ----------------------------------------------------------------------
RATE_RUN = "rate.run"
RATE_MODE = "rate.mode"
RATE_SCHEME = "rate.scheme"
RATE_K = "rate.k"
RATE_CELL = "rate.cell"  # the cell shown after Back; None: the next due cell
RATE_SKIPPED = "rate.skipped"  # cell ids skipped in this visit, served again at the end
RATE_PAIR_VARIANTS = "rate.pair_variants"  # the picker widget
RATE_PAIR_CHOSEN = "rate.pair_chosen"  # the variants of the blind session in use
RATE_PAIR_PICKING = "rate.pair_picking"
RATE_PAIR_SKIPPED = "rate.pair_skipped"  # row ids skipped in this visit
RATE_FLASH = "rate.flash"


def rate_value_key(session_id: int, cell_id: int) -> str:
    return f"rate.value::{session_id}::{cell_id}"


def rate_comment_key(session_id: int, cell_id: int) -> str:
    return f"rate.comment::{session_id}::{cell_id}"


# --- dashboard page -----------------------------------------------------------------
DASH_PROMPT = "dashboard.prompt"
DASH_DATASET = "dashboard.dataset"
DASH_MODELS = "dashboard.models"
DASH_RUNS = "dashboard.runs"
DASH_DATES = "dashboard.dates"
DASH_SCHEME = "dashboard.scheme"
DASH_METRIC = "dashboard.metric"
DASH_VOLUME = "dashboard.monthly_calls"
DASH_COST_VARIANT = "dashboard.cost_variant"
DASH_VERSIONS_PROMPT = "dashboard.versions_prompt"
DASH_LATENCY_KIND = "dashboard.latency_kind"
DASH_TABLE = "dashboard.table"
DASH_OPEN = "dashboard.open"  # (run_id, variant_id) picked in the table or a chart


def dash_chart_key(name: str) -> str:
    """The st.plotly_chart of one dashboard chart (its selection lives here)."""
    return f"dashboard.chart::{name}"


# --- settings page ------------------------------------------------------------------
SETTINGS_SCHEMES_TEXT = "settings.schemes_text"
SETTINGS_SCHEMES_BASE = "settings.schemes_base"
SETTINGS_SCHEMES_MESSAGE = "settings.schemes_message"
SETTINGS_FLASH = "settings.flash"
SETTINGS_MODEL_PICK = "settings.model_pick"  # the models.yaml entry the form edits (or a new one)
SETTINGS_MODEL_FORM = "settings.model_form"  # prefix of the form's fields, per entry
SETTINGS_MODEL_SAVED = "settings.model_saved"  # the entry just saved, reopened after the rerun
SETTINGS_MODELS_BASE = "settings.models_base"  # the models.yaml sha the edit started from
SETTINGS_SYNC_THEIRS = "settings.sync_theirs"  # the fetched sha of a pull that conflicts
SETTINGS_SYNC_FLASH = "settings.sync_flash"


# --- traces page --------------------------------------------------------------------
TRACES_RANGE = "traces.range"  # a key of components/trace_filters.RANGES
TRACES_SINCE = "traces.since"  # custom range: dates
TRACES_UNTIL = "traces.until"
TRACES_PROMPT = "traces.prompt"
TRACES_VERSION = "traces.version"
TRACES_LABEL = "traces.label"
TRACES_MODEL = "traces.model"
TRACES_USER = "traces.user"
TRACES_SESSION = "traces.session"
TRACES_ERRORS = "traces.errors"
TRACES_SCORE = "traces.score"
TRACES_SCORE_RANGE = "traces.score_range"
TRACES_SEARCH = "traces.search"
TRACES_SCOPE = "traces.scope"
TRACES_PAGE_SIZE = "traces.page_size"
TRACES_CURSORS = "traces.cursors"  # the cursors of the pages before this one (a stack)
TRACES_TABLE = "traces.table"  # the list's st.dataframe (its selection)
TRACES_OPEN = "traces.open"  # the trace id shown in the detail
TRACES_VIEW = "traces.view"  # list | sessions
TRACES_SESSION_PICK = "traces.session_pick"
TRACES_TURN = "traces.turn"  # the trace id of the turn opened in the Sessions view
TRACES_DS_TARGET = "traces.ds_target"  # new | existing
TRACES_DS_NEW = "traces.ds_new"
TRACES_DS_EXISTING = "traces.ds_existing"
TRACES_DS_REFERENCE = "traces.ds_reference"
TRACES_FLASH = "traces.flash"


def traces_table_key(signature: str) -> str:
    """The list's dataframe key: a fresh selection for each page and set of filters."""
    return f"{TRACES_TABLE}::{signature}"


# --- monitoring page ----------------------------------------------------------------
MON_RANGE = "monitoring.range"
MON_GRANULARITY = "monitoring.granularity"
MON_SEGMENT = "monitoring.segment"
MON_ATTRIBUTE = "monitoring.attribute"
MON_PERCENTILE = "monitoring.percentile"

# --- robustness (the Compare page's panel for robustness runs) -------------------------
ROBUST_KIND = "robustness.kind"
ROBUST_VARIANT = "robustness.variant"
ROBUST_BROKEN = "robustness.broken_only"
ROBUST_PAGE = "robustness.page"

# --- fine-tuning export (a panel on the Dashboard and Rate pages) ----------------------


def finetune_key(page: str, field: str) -> str:
    """The fine-tuning panel's widget keys, one set per page that shows it."""
    return f"finetune.{page}.{field}"


# --- sign-in and assignments (components/signin.py, components/assignments.py) --------
SIGNIN_PAGE = "signin.page"  # the url path of the page shown last, for drafts
SIGNIN_RESTORED = "signin.restored"  # the drafts put back after a new sign-in, once
ASSIGN_RATERS = "assign.raters"  # the editor's "assign raters" box
ASSIGN_SESSION = "assign.session"  # the session whose raters the editor looks at
