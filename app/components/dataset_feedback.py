"""What the Datasets page says after an action: the flash message and the next run's choices."""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from promptyard.datasets import DatasetVersion


def apply_pending() -> None:
    """Put the choices the last run made (after an import or a save) before the widgets exist."""
    pending = st.session_state.pop(state.DATASET_PENDING, None)
    if pending:
        for key, value in pending.items():
            st.session_state[key] = value


def show_flash() -> None:
    """The message the last action left, shown once."""
    message = st.session_state.pop(state.DATASET_FLASH, None)
    if message:
        st.success(message, icon="✅")


def done(message: str, **choices: Any) -> None:
    """Rerun the page showing `message`, with widget `choices` (key: value) set first."""
    st.session_state[state.DATASET_FLASH] = message
    st.session_state[state.DATASET_PENDING] = choices
    st.rerun()


def version_summary(version: DatasetVersion) -> str:
    """`name vN (rows; what changed)`, for the flash message."""
    change = f"; {version.change.summary()}" if version.change is not None else ""
    return f"{version.name} {version.ref} ({version.rows:,} rows{change})"
