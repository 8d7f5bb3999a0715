"""A version picker for one prompt or dataset file."""

from __future__ import annotations

import streamlit as st

from promptyard.versioning import Version


def version_label(version: Version) -> str:
    labels = f" [{', '.join(version.labels)}]" if version.labels else ""
    gone = " (deleted)" if version.deleted else ""
    return f"{version.tag} · {version.short_sha} · {version.message[:48]}{gone}{labels}"


def version_picker(
    label: str, versions: list[Version], key: str, default_index: int = -1
) -> Version | None:
    """A selectbox over `versions`, newest first; returns the chosen Version."""
    if not versions:
        st.caption("No saved versions yet.")
        return None
    newest_first = list(reversed(versions))
    index = (len(versions) - 1 - default_index) if default_index >= 0 else 0
    return st.selectbox(
        label,
        newest_first,
        index=min(index, len(newest_first) - 1),
        format_func=version_label,
        key=key,
    )
