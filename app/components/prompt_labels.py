"""A prompt's Labels tab: where each label points, the form that moves one, the moves."""

from __future__ import annotations

import pandas as pd
import state
import streamlit as st

from components.signin import may_or_say
from components.versions import version_label
from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.versioning import Version
from promptyard.workspace import Workspace


def prompt_labels(ws: Workspace, name: str) -> None:
    """The labels of prompt `name`, a form to point one at a version, and their history."""
    versions = prompts.prompt_versions(name, ws)
    live = [v for v in versions if not v.deleted]
    if not live:
        st.info("Save a version before labelling it.")
        return
    current = prompts.prompt_labels(name, ws)
    if current:
        st.dataframe(
            pd.DataFrame(
                [
                    {"label": k, "version": v.tag, "sha": v.short_sha, "message": v.message}
                    for k, v in sorted(current.items())
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(
            "No labels yet. `production` is the usual first one: applications load the version it points at."
        )
    if may_or_say(Permission.MOVE_LABELS, "move labels"):
        _move_form(ws, name, live, current)
    moves = prompts.prompt_label_moves(name, ws)
    if moves:
        st.markdown("**Label moves**")
        by_sha = {v.sha: v.tag for v in versions}
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "when": m.at.strftime("%Y-%m-%d %H:%M"),
                        "label": m.label,
                        "from": by_sha.get(m.from_sha or "", "—"),
                        "to": by_sha.get(m.to_sha, m.to_sha[:8]),
                        "who": m.who,
                    }
                    for m in reversed(moves)
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _move_form(ws: Workspace, name: str, live: list[Version], current: dict[str, Version]) -> None:
    with st.form("prompts.label_form"):
        c1, c2 = st.columns(2)
        options = sorted({"production", "staging", *current})
        label = c1.selectbox(
            "Label",
            options,
            key=state.for_version(state.PROMPT_LABEL_NAME, live[-1].sha),
            accept_new_options=True,
        )
        target = c2.selectbox(
            "Version",
            list(reversed(live)),
            format_func=version_label,
            key=state.for_version(state.PROMPT_LABEL_REF, live[-1].sha),
        )
        if st.form_submit_button("🏷️ Move label", type="primary"):
            try:
                prompts.label_prompt(name, target.sha, str(label).strip(), workspace=ws)
            except PromptyardError as exc:
                st.error(str(exc))
            else:
                st.session_state[state.PROMPT_FLASH] = f"{label} now points at {name} {target.tag}."
                st.rerun()
