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

# --- datasets page ------------------------------------------------------------------

# --- playground page ----------------------------------------------------------------

# --- runs page ----------------------------------------------------------------------

# --- compare page -------------------------------------------------------------------

# --- rate page ----------------------------------------------------------------------

# --- dashboard page -----------------------------------------------------------------

# --- settings page ------------------------------------------------------------------
