"""Home: what Promptyard is, what is in this workspace, and what to do first."""

from __future__ import annotations

import streamlit as st
from components.context import workspace

from promptyard.prompts import list_prompts

ws = workspace()
st.title("🌱 Promptyard")
st.caption(f"Workspace: `{ws.root}`")
st.markdown(
    "Keep prompts in git, run any version against any model on a dataset, look at the "
    "outputs side by side, rate them, and see which version wins on quality, latency and cost."
)

try:
    prompt_count = len(list_prompts(ws))
except Exception as exc:  # a workspace outside git, unreadable files...
    st.error(f"This workspace cannot be read: {exc}")
    st.stop()


def _run_count() -> int:
    from sqlmodel import func, select

    from promptyard import db
    from promptyard.tables import Run

    with db.session(ws) as session:
        return int(session.exec(select(func.count()).select_from(Run)).one())


dataset_count = len(list(ws.datasets_dir.glob("*.jsonl"))) if ws.datasets_dir.is_dir() else 0

c1, c2, c3 = st.columns(3)
c1.metric("Prompts", prompt_count)
c2.metric("Datasets", dataset_count)
c3.metric("Runs", _run_count())

st.subheader("Start here")
steps = [
    (
        "📝",
        "Open a prompt",
        "Edit it, watch the preview, save a new version, compare it with the last one.",
        "pages/prompts.py",
    ),
    (
        "🧪",
        "Try it in the playground",
        "Run two versions or two models side by side on one input.",
        "pages/playground.py",
    ),
    (
        "🚀",
        "Run it on a dataset",
        "Every version × model × row, many calls at a time, with cost and latency.",
        "pages/runs.py",
    ),
    (
        "🔍",
        "Compare and rate",
        "Read the outputs side by side and rate them, or vote in blind A/B pairs.",
        "pages/compare.py",
    ),
    (
        "📊",
        "Decide on the dashboard",
        "Quality, latency and cost per version and model.",
        "pages/dashboard.py",
    ),
]
for icon, title, text, target in steps:
    with st.container(border=True):
        left, right = st.columns([4, 1])
        left.markdown(f"**{icon} {title}**  \n{text}")
        right.page_link(target, label="Open", icon="➡️")

if prompt_count == 0:
    st.info(
        "This workspace has no prompts yet. Run `promptyard init` here to add the examples, "
        "or create one on the Prompts page."
    )
st.caption(
    "No API key? Everything runs on the built-in simulated models (labelled *simulated*), offline."
)
