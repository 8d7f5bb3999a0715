"""Robustness runs in the app: Compare shows the table and each variant beside its original;
the Dashboard has a robustness column (AppTest)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from promptyard import robustness as rb
from promptyard.runs import run_sync

VIEWS = Path(__file__).resolve().parent.parent / "app" / "views"
EVIL = "<script>window.__pwned=1</script> please help on Monday."


def _robustness_run(workspace, scored: bool = True) -> int:  # type: ignore[no-untyped-def]
    path = workspace.datasets_dir / "tickets.jsonl"
    lines = path.read_text().splitlines()
    # A row whose text is markup: it must show as text in both columns.
    lines[0] = lines[0].replace("I was charged twice", EVIL.replace('"', "'"))
    path.write_text("\n".join(lines) + "\n")
    rplan = rb.plan_robustness(
        workspace,
        [("support_reply", None)],
        ["echo", "sim-fast"],
        ("tickets", None),
        slice="head:4",
        kinds="case,typos",
        seed=1,
    )
    run_id = rb.create_robustness_run(workspace, rplan)
    run_sync(workspace, run_id)
    if scored:
        rb.score_robustness(workspace, run_id)
    return run_id


def _app(page: str) -> AppTest:
    at = AppTest.from_file(str(VIEWS / page), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_compare_shows_consistency_per_kind_and_broken_pairs_side_by_side(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id = _robustness_run(workspace)
    at = _app("compare.py")
    tables = [d.value for d in at.dataframe]
    table = next(t for t in tables if "kind" in t.columns)
    assert list(table["kind"]) == ["case", "typos", "all"]
    assert list(table.columns[1:]) == ["support_reply v2 · echo", "support_reply v2 · sim-fast"]
    assert table.loc[table["kind"] == "case", "support_reply v2 · echo"].item() == 1.0
    assert table.loc[table["kind"] == "typos", "support_reply v2 · echo"].item() == 0.0
    # Broken pairs only, by default: an echo typo pair shows its original and variant.
    marks = [m.value for m in at.markdown]
    assert any("· typos · support_reply v2 · echo · ❌ broke" in m for m in marks)
    assert not any("· case · support_reply v2 · echo" in m for m in marks)
    assert any("pairs · page 1 of" in c.value for c in at.caption)
    at.selectbox(key=f"robustness.kind::{run_id}").select("case").run()
    at.checkbox(key=f"robustness.broken_only::{run_id}").uncheck().run()
    marks = [m.value for m in at.markdown]
    assert any("· case · support_reply v2 · echo · ✅ equivalent" in m for m in marks)
    # Markup in a row is text, never HTML.
    assert any("<script>" in t.value for t in at.text)
    assert all("<script>" not in m for m in marks)


def test_an_unscored_run_says_how_to_score_it(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id = _robustness_run(workspace, scored=False)
    at = _app("compare.py")
    assert any(f"promptyard robustness --run {run_id}" in i.value for i in at.info)


def test_dashboard_has_a_robustness_column(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    from promptyard.runs import create_run, plan_run

    _robustness_run(workspace)
    plan = plan_run(
        workspace,
        [("support_reply", None)],
        ["echo", "sim-fast"],
        ("tickets", None),
        slice="head:4",
    )
    run_sync(workspace, create_run(workspace, plan))
    at = _app("dashboard.py")
    board = next(d.value for d in at.dataframe if "robustness" in d.value.columns)
    by_model = dict(zip(board["model"], board["robustness"], strict=True))
    assert by_model["echo"] == 0.5  # case kept (4/4), typos broke (0/4)
    worst = dict(zip(board["model"], board["robust_worst"], strict=True))
    assert worst["echo"] == "typos 0%"
