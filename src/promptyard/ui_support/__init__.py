"""Helpers that exist only for the pages: the home overview, settings information, run forms.

The command line and the Python API reach the same things through the parts themselves;
these shape them the way a page shows them.
"""

from promptyard.ui_support.home import Overview, recent_alerts, workspace_overview
from promptyard.ui_support.run_forms import (
    RunRequest,
    VersionChoice,
    launch,
    preview,
    resume_in_background,
    suggest_plan,
    version_choices,
)
from promptyard.ui_support.settings_info import (
    EndpointKey,
    KeyStatus,
    ModelRow,
    SettingsOverview,
    masked_url,
    model_rows,
    settings_overview,
)

__all__ = [
    "EndpointKey",
    "KeyStatus",
    "ModelRow",
    "Overview",
    "RunRequest",
    "SettingsOverview",
    "VersionChoice",
    "launch",
    "masked_url",
    "model_rows",
    "preview",
    "recent_alerts",
    "resume_in_background",
    "settings_overview",
    "suggest_plan",
    "version_choices",
    "workspace_overview",
]
