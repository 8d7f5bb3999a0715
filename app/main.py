"""The Streamlit entry point: one st.Page per file in app/views/."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

_APP_DIR = Path(__file__).resolve().parent
if str(_APP_DIR) not in sys.path:
    sys.path.insert(0, str(_APP_DIR))

import state  # noqa: E402
from components.signin import gate, restore_after_signin, visible_pages  # noqa: E402

from promptyard._env import configure_offline_defaults  # noqa: E402

configure_offline_defaults()


def _warm_model_layer() -> None:
    """Once per process, in the background: the first "Run all" then answers in seconds."""
    from promptyard.models import start_warm_up
    from promptyard.workspace import current_workspace

    try:
        ws = current_workspace()
    except Exception:  # noqa: BLE001 - no workspace yet: warm what needs none
        ws = None
    start_warm_up(ws)


_warm_model_layer()
st.set_page_config(page_title="Promptyard", page_icon="🌱", layout="wide")

PAGES = {
    "Workbench": [
        st.Page(_APP_DIR / "views" / "home.py", title="Home", icon="🏠", default=True),
        st.Page(_APP_DIR / "views" / "prompts.py", title="Prompts", icon="📝", url_path="prompts"),
        st.Page(
            _APP_DIR / "views" / "datasets.py", title="Datasets", icon="🗂️", url_path="datasets"
        ),
        st.Page(
            _APP_DIR / "views" / "playground.py",
            title="Playground",
            icon="🧪",
            url_path="playground",
        ),
        st.Page(_APP_DIR / "views" / "runs.py", title="Runs", icon="🚀", url_path="runs"),
    ],
    "Judge": [
        st.Page(_APP_DIR / "views" / "compare.py", title="Compare", icon="🔍", url_path="compare"),
        st.Page(_APP_DIR / "views" / "rate.py", title="Rate", icon="⭐", url_path="rate"),
        st.Page(
            _APP_DIR / "views" / "dashboard.py", title="Dashboard", icon="📊", url_path="dashboard"
        ),
    ],
    "Production": [
        st.Page(_APP_DIR / "views" / "traces.py", title="Traces", icon="🔭", url_path="traces"),
        st.Page(
            _APP_DIR / "views" / "monitoring.py",
            title="Monitoring",
            icon="📈",
            url_path="monitoring",
        ),
    ],
    "Workspace": [
        st.Page(
            _APP_DIR / "views" / "settings.py", title="Settings", icon="⚙️", url_path="settings"
        ),
    ],
}

# Sign-in (when the workspace's secrets have an [auth] section): every page needs it, and
# each role sees only the pages it may use.
signed_in = gate()
page = st.navigation(visible_pages(PAGES, signed_in))
restore_after_signin(PAGES, page.url_path)
st.session_state[state.SIGNIN_PAGE] = page.url_path
page.run()
