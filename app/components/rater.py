"""Who is rating: the signed-in identity when sign-in is on, else a name they type."""

from __future__ import annotations

import state
import streamlit as st

# Re-exported: the Rate page (at its 400 lines) imports its fine-tuning panel and its
# assignments panel here, beside the rater's identity.
from components.assignments import assignment_panel
from components.finetune_button import finetune_button
from components.identity import current_identity

__all__ = ["assignment_panel", "finetune_button", "logged_in_name", "rater_field"]


def logged_in_name() -> str | None:
    """The signed-in identity's key (email, else subject), None with sign-in off."""
    who = current_identity()
    return who.key if who is not None else None


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
