"""The fine-tuning panel on the Rate and Dashboard pages (AppTest)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from promptyard import ratings, runs

VIEWS = Path(__file__).resolve().parent.parent / "app" / "views"


def _run(workspace) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    plan = runs.plan_run(
        workspace,
        [("support_reply", None)],
        ["sim-fast", "sim-smart"],
        ("tickets", None),
        slice="head:3",
    )
    run_id = runs.create_run(workspace, plan)
    runs.run_sync(workspace, run_id)
    pairs = ratings.make_pairs(workspace, run_id)
    return run_id, [p.cell_a_id for p in pairs]


def _app(page: str) -> AppTest:
    at = AppTest.from_file(str(VIEWS / page), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_rate_page_prepares_an_sft_file_or_says_why_there_is_none(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    _, cells = _run(workspace)
    at = _app("rate.py")
    at.button(key="finetune.rate.build").click().run()
    assert any("no answered cell clears --min-score 0.75" in w.value for w in at.warning)
    assert not at.get("download_button")
    ratings.rate_cell(workspace, cells[0], "quality", 5, "ann")
    at.button(key="finetune.rate.build").click().run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "1 SFT example(s) (1 from ratings)" in texts
    assert any(t.startswith("training: ") and "estimated cost $" in t for t in texts)
    download = at.get("download_button")
    assert len(download) == 1 and "Download 1 SFT examples" in download[0].proto.label


def test_dashboard_offers_preference_pairs_from_votes(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id, _ = _run(workspace)
    for pair in ratings.make_pairs(workspace, run_id):
        ratings.record_vote(workspace, pair, "a", "ann")
    ratings.rate_cell(workspace, pair.cell_a_id, "quality", 4, "ann")  # the board needs a rating
    at = _app("dashboard.py")
    at.session_state["finetune.dashboard.format"] = "dpo"
    at.run()
    at.button(key="finetune.dashboard.build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [t.value for t in at.text]
    assert "3 DPO example(s) (3 from votes)" in texts
    download = [d for d in at.get("download_button") if d.key == "finetune.dashboard.download"]
    assert len(download) == 1 and "Download 3 DPO examples" in download[0].proto.label
