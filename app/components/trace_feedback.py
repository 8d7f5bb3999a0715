"""The dashboard's count of end users' feedback from production, beside the human ratings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from promptyard import traces
from promptyard.csv_safety import neutralise_cell


@st.cache_data(ttl=15, show_spinner=False)
def _rows(url: str) -> list[traces.VersionFeedback]:
    return traces.feedback_by_version(url)


def feedback_section(url: str) -> None:
    """Feedback count and mean per prompt version and scheme; nothing when there is none."""
    rows = _rows(url)
    if not rows:
        return
    st.subheader("End-user feedback (production)", anchor=False)
    st.caption(
        "Scores your app's users gave through `POST /v1/feedback` or `promptyard.feedback()`, "
        "on traces that name a prompt version. The ratings above are the workbench's own."
    )
    frame = pd.DataFrame(
        [
            {
                "prompt": r.prompt_name,
                "version": f"v{r.prompt_version}" if r.prompt_version else "—",
                "scheme": r.scheme,
                "count": r.count,
                "mean": None if r.mean is None else round(r.mean, 3),
            }
            for r in rows
        ]
    ).map(neutralise_cell)
    st.dataframe(frame, hide_index=True, width="stretch")
