"""The Rate page: labeling sessions, blind pairs and agreement (AppTest)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from promptyard import ratings
from tests.ratings_seed import seed_run

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "rate.py")


def _app(name: str | None = "ann") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if name:
        at.text_input(key="rater_name").input(name).run()
    return at


def _output(at: AppTest) -> str:
    return [t.value for t in at.text][-1]


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def test_page_without_runs(workspace) -> None:
    at = _app(None)
    assert "No runs yet" in at.info[0].value


def test_asks_for_a_name_first(workspace) -> None:
    seed_run(workspace, rows=2)
    at = _app(None)
    assert "Type your name" in at.info[0].value


def test_labeling_session_rate_skip_back_change_and_resume(workspace) -> None:
    seeded = seed_run(workspace, rows=2)  # 4 cells
    at = _app()
    at.selectbox(key="rate.scheme").select("quality").run()
    at.number_input(key="rate.k").set_value(2).run()
    at.button(key="rate.start").click().run()
    sess = ratings.find_session(workspace, seeded.run_id, "rate", "quality")
    assert sess is not None and sess.raters_per_cell == 2
    assert "How good is this answer" in at.info[0].value  # the scheme's instructions
    first_output = _output(at)
    assert (
        first_output
        == "The customer reports problem number 0 with the order and asks for a refund."
    )

    value_key = f"rate.value::{sess.id}::{seeded.cell_id(0, 0)}"
    at.segmented_control(key=value_key).set_value(4)
    _submit(at, "Save and next")
    assert not at.exception
    assert at.progress[0].value == 25  # percent
    assert "You rated 1" in at.progress[0].text
    assert _output(at).startswith("A user reports problem number 0")

    at.button(key="rate.skip").click().run()  # skip cell (0, 1)
    assert _output(at).startswith("The customer reports problem number 1")

    at.button(key="rate.back").click().run()  # back to the rated first cell
    assert _output(at) == first_output
    at.segmented_control(key=value_key).set_value(2)
    _submit(at, "Change rating")
    history = ratings.rating_history(workspace, seeded.cell_id(0, 0), "quality", "ann")
    assert [ratings.rating_value(r) for r in history] == [4, 2]

    # a new visit (fresh page) resumes at the first cell ann has not rated: the skipped one
    again = _app()
    again.selectbox(key="rate.scheme").select("quality").run()
    assert _output(again).startswith("A user reports problem number 0")
    assert "Session #" in " ".join(c.value for c in again.caption)


def test_blind_pairs_hide_names_and_count_votes(workspace) -> None:
    seeded = seed_run(workspace, rows=3)
    at = _app()
    at.segmented_control(key="rate.mode").set_value("Blind pairs").run()
    at.button(key="rate.pair_start").click().run()
    body = " ".join(m.value for m in at.markdown) + " ".join(t.value for t in at.text)
    assert "sim-fast" not in body and "sim-smart" not in body  # variant names hidden
    assert {m.value for m in at.markdown} >= {"**Left**", "**Right**"}
    for key in ("rate.vote_left", "rate.vote_tie", "rate.vote_right"):
        at.button(key=key).click().run()
        assert not at.exception
    assert "You voted on 3 of 3 pairs" in at.progress[0].text
    assert "No pairs left" in at.success[0].value
    votes = ratings.pairwise_results(workspace, seeded.run_id)
    assert sum(v.comparisons for v in votes) == 6
    assert "pairwise 3" in at.caption[0].value


def test_agreement_tab(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    for rater, values in (("ann", [5, 4, 1, 2]), ("bob", [5, 2, 1, 2])):
        for i, v in enumerate(values):
            ratings.rate_cell(workspace, seeded.cell_id(i // 2, i % 2), "quality", v, rater)
    at = _app()
    at.segmented_control(key="rate.mode").set_value("Agreement").run()
    table = at.dataframe[0].value
    assert list(table["scheme"]) == ["quality"] and list(table["method"]) == ["Cohen's kappa"]
    disputed = at.dataframe[1].value
    assert list(disputed["cell"]) == [seeded.cell_id(0, 1)]


def test_agreement_tab_shows_undefined_as_a_dash_with_why(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    for rater in ("ann", "bob"):
        for i in range(4):  # one category used by everyone: kappa and alpha are undefined
            ratings.rate_cell(workspace, seeded.cell_id(i // 2, i % 2), "thumbs", True, rater)
    at = _app()
    at.segmented_control(key="rate.mode").set_value("Agreement").run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["scheme"] == "thumbs"].iloc[0]
    assert (row["Cohen's κ"], row["Fleiss' κ"], row["Krippendorff's α"]) == ("—", "—", "—")
    assert row["why —"] == "only one category was used, so agreement is undefined"
    [note] = [c for c in at.caption if "undefined" in c.value]
    assert "only one category was used" in note.help
