"""Settings: the workspace, its database, which providers have keys, and rating schemes."""

from __future__ import annotations

import state
import streamlit as st
from components.context import workspace
from components.git_remote import git_remote
from components.models_settings import models_settings
from components.output_cell import escape_markdown
from components.signin import may

from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.ui_support import settings_overview
from promptyard.versioning import ConflictError

ws = workspace()
st.title("⚙️ Settings")

flash = st.session_state.pop(state.SETTINGS_FLASH, None)
if flash:
    st.success(flash, icon="✅")

overview = settings_overview(ws)
st.subheader("Workspace")
st.caption("Folder")
st.code(overview.root, language=None)
st.caption("Database (set PROMPTYARD_DATABASE_URL to use another one)")
st.code(overview.database_url, language=None)
st.caption("Providers with an API key (from the environment or .streamlit/secrets.toml)")
if overview.providers_with_keys:
    st.text(", ".join(overview.providers_with_keys))
else:
    st.text("none: the offline simulator models are available")
if overview.endpoint_keys:
    st.caption("models.yaml endpoints and their key variables")
    st.dataframe(
        [
            {"endpoint": k.name, "key variable": k.env, "set": "yes" if k.present else "missing"}
            for k in overview.endpoint_keys
        ],
        hide_index=True,
    )
for problem in overview.problems:
    st.warning(problem)

models_settings(ws)
git_remote(ws)

st.subheader("Rating schemes")
st.caption(
    "Kept in ratings.yaml in the workspace; every save is a git commit, and each rating "
    "records the version it was given under."
)
current_version = ratings.scheme_version(ws)
if state.SETTINGS_SCHEMES_TEXT not in st.session_state:
    st.session_state[state.SETTINGS_SCHEMES_TEXT] = ratings.ratings_text(ws)
    st.session_state[state.SETTINGS_SCHEMES_BASE] = current_version
source = st.text_area(
    "ratings.yaml",
    key=state.SETTINGS_SCHEMES_TEXT,
    height=360,
    help="Kinds: numeric (min, max, step; level: ordinal, interval or ratio for agreement), "
    "boolean, categorical (labels, multiple), text",
)
try:
    preview = ratings.parse_schemes(source)
    problem = None
except PromptyardError as exc:
    preview, problem = [], str(exc)
if problem:
    st.error(problem)
else:
    st.dataframe(
        [
            {
                "name": s.name,
                "kind": str(s.kind),
                "values": s.describe(),
                "agreement level": s.level,
                "instructions": s.instructions,
            }
            for s in preview
        ],
        hide_index=True,
    )
cols = st.columns([3, 1, 1])
message = cols[0].text_input(
    "What changed",
    key=state.SETTINGS_SCHEMES_MESSAGE,
    placeholder="e.g. add a tone scheme",
    label_visibility="collapsed",
)
if may(Permission.MANAGE_SCHEMES) and cols[1].button(
    "Save schemes", type="primary", key="settings.save", disabled=bool(problem)
):
    try:
        version = ratings.save_schemes(
            ws,
            source,
            message or "Update rating schemes",
            base=st.session_state.get(state.SETTINGS_SCHEMES_BASE),
        )
        st.session_state[state.SETTINGS_FLASH] = (
            f"Saved rating schemes as {version.tag} ({version.short_sha})."
        )
        for key in (state.SETTINGS_SCHEMES_TEXT, state.SETTINGS_SCHEMES_BASE):
            st.session_state.pop(key, None)
        st.rerun()
    except ConflictError:
        st.error(
            "ratings.yaml changed since you opened it (someone else saved). Reload to see "
            "their version; copy your edits first."
        )
    except PromptyardError as exc:
        st.error(str(exc))
if cols[2].button("Reload", key="settings.reload"):
    for key in (state.SETTINGS_SCHEMES_TEXT, state.SETTINGS_SCHEMES_BASE):
        st.session_state.pop(key, None)
    st.rerun()
if current_version:
    st.caption(escape_markdown(f"Current version: {current_version[:8]}"))
else:
    st.caption("Not saved in git yet: these are the defaults.")
