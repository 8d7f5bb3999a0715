"""One reading of first appearances serves the page's change markers and the monitors'
before/after reports: both name the same changes."""

from __future__ import annotations

from promptyard.monitoring import ChangeKind, change_markers, first_appearances
from promptyard.storage import get_engine
from promptyard.workspace import Workspace
from tests.monitoring_seed import HOUR_NS, S, seed

T0 = 1_772_359_200 * 1_000_000_000  # 2026-03-01 10:00 UTC
MIN_NS = 60 * 1_000_000_000


def test_first_appearances_are_per_prompt_and_per_requested_model(workspace: Workspace) -> None:
    seed(
        workspace,
        [
            S(T0 - HOUR_NS, prompt_version=1),
            S(T0 + 10 * MIN_NS, prompt_version=3),
            S(T0 + 20 * MIN_NS, prompt_version=2),  # numbered lower, seen later
            S(T0 + 30 * MIN_NS, response_model="gpt-4o-2024-11-20"),
            # a new requested model's own first answer is no change for it, but a new
            # reported model for the workspace
            S(T0 + 40 * MIN_NS, request_model="mini", response_model="mini-2024-07-18"),
        ],
    )
    with get_engine(workspace).connect() as conn:
        versions = first_appearances(conn, ChangeKind.PROMPT_VERSION, T0, T0 + HOUR_NS)
        scoped = first_appearances(conn, ChangeKind.RESPONSE_MODEL, T0, T0 + HOUR_NS)
        unscoped = first_appearances(
            conn, ChangeKind.RESPONSE_MODEL, T0, T0 + HOUR_NS, scoped=False
        )
    assert [(a.scope, a.value, a.earlier) for a in versions] == [
        ("summarize", 3, (1,)),
        ("summarize", 2, (1, 3)),
    ]
    assert [(a.scope, a.value) for a in scoped] == [("gpt-4o", "gpt-4o-2024-11-20")]
    assert [a.value for a in unscoped] == ["gpt-4o-2024-11-20", "mini-2024-07-18"]
    markers = change_markers(workspace, T0, T0 + HOUR_NS)
    assert [m.label for m in markers] == [
        "summarize v3",
        "summarize v2",
        "gpt-4o-2024-11-20",
        "mini-2024-07-18",
    ]
