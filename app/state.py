"""The only place that names st.session_state keys.

Keys hold ids and names, never objects: the truth lives in git and the database.
Each page has its own section; add a key here, then use the constant.
"""

from __future__ import annotations

# --- shared -------------------------------------------------------------------------
RATER_NAME = "rater_name"

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

# --- datasets page ------------------------------------------------------------------

# --- playground page ----------------------------------------------------------------

# --- runs page ----------------------------------------------------------------------

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


def compare_rating_key(cell_id: int, scheme: str, rater: str) -> str:
    """The inline rating widget of one cell, per scheme and rater."""
    return f"compare.rate::{scheme}::{cell_id}::{rater}"


# --- rate page ----------------------------------------------------------------------
RATE_RUN = "rate.run"
RATE_MODE = "rate.mode"
RATE_SCHEME = "rate.scheme"
RATE_K = "rate.k"
RATE_CELL = "rate.cell"  # the cell shown after Back; None: the next due cell
RATE_SKIPPED = "rate.skipped"  # cell ids skipped in this visit
RATE_PAIR_VARIANTS = "rate.pair_variants"
RATE_PAIR_SKIPPED = "rate.pair_skipped"  # row ids skipped in this visit
RATE_FLASH = "rate.flash"


def rate_value_key(session_id: int, cell_id: int) -> str:
    return f"rate.value::{session_id}::{cell_id}"


def rate_comment_key(session_id: int, cell_id: int) -> str:
    return f"rate.comment::{session_id}::{cell_id}"


# --- dashboard page -----------------------------------------------------------------

# --- settings page ------------------------------------------------------------------
SETTINGS_SCHEMES_TEXT = "settings.schemes_text"
SETTINGS_SCHEMES_BASE = "settings.schemes_base"
SETTINGS_SCHEMES_MESSAGE = "settings.schemes_message"
SETTINGS_FLASH = "settings.flash"
