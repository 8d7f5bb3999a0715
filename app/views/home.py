"""Home: what Promptyard is, what is in this workspace, and what to do first."""

from __future__ import annotations

import state
import streamlit as st
from components.context import workspace
from components.signin import may_open

from promptyard.ui_support import recent_alerts, workspace_overview

ws = workspace()
st.title("🌱 Promptyard")
st.markdown(
    "Keep prompts in git, run any version against any model on a dataset, look at the "
    "outputs side by side, rate them, and see which version wins on quality, latency and cost."
)
st.caption(f"Workspace: `{ws.root}`")

try:
    overview = workspace_overview(ws)
except Exception as exc:  # a folder outside git, unreadable files: say so, don't crash
    st.error(f"This workspace cannot be read: {exc}")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Prompts", overview.prompts)
c2.metric("Datasets", overview.datasets)
c3.metric("Runs", overview.runs)
c4.metric("Ratings", overview.ratings)

alerts = recent_alerts(ws)
if alerts:
    # Monitors that fired on live traffic (monitors.yaml): the newest first.
    st.subheader("Alerts")
    for alert in alerts:
        sent = "sent" if alert.delivered else (alert.delivery_error or "not sent")
        st.warning(
            f"**{alert.monitor}** · {alert.fired_at:%Y-%m-%d %H:%M} UTC · {alert.message} "
            f"· {len(alert.span_ids)} span(s) · webhook: {sent}",
            icon="🚨",
        )

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Start here")
    steps = [
        (
            "📝",
            "Open a prompt",
            "Edit it, watch the live preview, save a version, diff it with the last.",
            "views/prompts.py",
        ),
        (
            "🧪",
            "Try it in the playground",
            "Two versions or two models side by side on one input.",
            "views/playground.py",
        ),
        (
            "🚀",
            "Run it on a dataset",
            "Every version × model × row, many calls at a time, with cost and latency.",
            "views/runs.py",
        ),
        (
            "🔍",
            "Compare and rate",
            "Read outputs side by side, rate them, vote in blind A/B pairs.",
            "views/compare.py",
        ),
        (
            "📊",
            "Decide on the dashboard",
            "Quality, latency and cost per version and model.",
            "views/dashboard.py",
        ),
    ]
    for icon, title, text, target in [s for s in steps if may_open(s[3])]:
        with st.container(border=True):
            a, b = st.columns([5, 1], vertical_alignment="center")
            a.markdown(f"**{icon} {title}**  \n{text}")
            b.page_link(target, label="Open", icon="➡️")

with right:
    st.subheader("Your prompts")
    if not overview.prompt_names:
        st.info(
            "No prompts yet. Create one on the Prompts page, or run `promptyard init` in this "
            "folder to add the examples."
        )
    for name, tag, description in overview.prompt_names:
        with st.container(border=True):
            st.markdown(f"**{name}** :gray-badge[{tag}]")
            if description:
                st.caption(description)
            if st.button("Edit", key=f"home.open::{name}"):
                st.session_state[state.PROMPT_SELECTED] = name
                st.switch_page("views/prompts.py")

st.caption(
    "No API key? Everything runs on the built-in simulated models (labelled *simulated*), "
    "offline. Add keys or endpoints in `models.yaml` to use real ones."
)
