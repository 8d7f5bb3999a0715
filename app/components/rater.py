"""Who is rating: the logged-in user when login is configured, else a name they type."""

from __future__ import annotations

import state
import streamlit as st

# Re-exported: the Rate page imports its fine-tuning panel here (it is at its 400 lines).
from components.finetune_button import finetune_button

__all__ = ["finetune_button", "logged_in_name", "rater_field"]


def logged_in_name() -> str | None:
    """The name (or email) of the logged-in user, None without login."""
    try:
        if st.user.is_logged_in:
            name = st.user.get("name") or st.user.get("email")
            return str(name) if name else None
    except (AttributeError, KeyError, RuntimeError):
        return None
    return None


def rater_field(where: st.delta_generator.DeltaGenerator | None = None) -> str:
    """The rater's name: shown when logged in, else a text field kept across pages."""
    target = where or st
    user = logged_in_name()
    if user:
        target.caption(f"Rating as {user}")
        return user
    if state.RATER_NAME in st.session_state:
        # Keep the name when a page without this widget ran in between.
        st.session_state[state.RATER_NAME] = st.session_state[state.RATER_NAME]
    name = target.text_input(
        "Your name",
        key=state.RATER_NAME,
        placeholder="who is rating",
        help="Stored with every rating and vote",
    )
    return (name or "").strip()
