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


def _start(at: AppTest, scheme: str = "quality", k: int = 1) -> None:
    at.selectbox(key="rate.scheme").select(scheme).run()
    if k != 1:
        at.number_input(key="rate.k").set_value(k).run()
    at.button(key="rate.start").click().run()


def _key(at: AppTest, key: str) -> None:
    """Press the button a key triggers (in the browser the key itself presses it)."""
    at.button(key=f"rate.key::{key}").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_labeling_session_rate_skip_back_change_and_resume(workspace) -> None:
    # Changed with issue 15: a value is one button (and one key) that rates and moves on;
    # the old segmented control + "Save and next" form took two actions and a full rerun.
    seeded = seed_run(workspace, rows=2)  # 4 cells
    at = _app()
    _start(at, k=2)
    sess = ratings.find_session(workspace, seeded.run_id, "rate", "quality")
    assert sess is not None and sess.raters_per_cell == 2
    assert "How good is this answer" in at.info[0].value  # the scheme's instructions
    first_output = _output(at)
    assert (
        first_output
        == "The customer reports problem number 0 with the order and asks for a refund."
    )

    _key(at, "4")
    assert at.progress[0].value == 25  # percent
    assert "You rated 1" in at.progress[0].text
    assert _output(at).startswith("A user reports problem number 0")

    at.button(key="rate.skip").click().run()  # skip cell (0, 1)
    assert _output(at).startswith("The customer reports problem number 1")

    at.button(key="rate.back").click().run()  # back to the rated first cell
    assert _output(at) == first_output
    _key(at, "2")
    history = ratings.rating_history(workspace, seeded.cell_id(0, 0), "quality", "ann")
    assert [ratings.rating_value(r) for r in history] == [4, 2]

    # a new visit (fresh page) resumes at the first cell ann has not rated: the skipped one
    again = _app()
    again.selectbox(key="rate.scheme").select("quality").run()
    assert _output(again).startswith("A user reports problem number 0")
    assert "Session #" in " ".join(c.value for c in again.caption)


def test_every_action_has_a_key_and_the_legend_names_them(workspace) -> None:
    seed_run(workspace, rows=2)
    at = _app()
    _start(at)
    shortcuts = {b.key: b.proto.shortcut for b in at.button if b.key}
    assert {k: shortcuts[f"rate.key::{k}"] for k in "12345"} == {k: k for k in "12345"}
    assert shortcuts["rate.back"] == "left" and shortcuts["rate.next"] == "right"
    assert shortcuts["rate.skip"] == "s" and shortcuts["rate.undo"] == "u"
    legend = next(c.value for c in at.caption if c.value.startswith("**Keys:**"))
    for shown in ("`1`–`5` rate", "`←` previous", "`→` next", "`S` skip", "`U` undo"):
        assert shown in legend


def test_skipped_cells_come_back_at_the_end_of_the_session(workspace) -> None:
    seeded = seed_run(workspace, rows=2)  # cells (0,0) (0,1) (1,0) (1,1)
    at = _app()
    _start(at)
    at.button(key="rate.skip").click().run()  # (0, 0) for later
    assert _output(at).startswith("A user reports problem number 0")
    for value in "345":
        _key(at, value)
    # every other cell is rated: the skipped one is served again, in the same visit
    assert _output(at).startswith("The customer reports problem number 0")
    assert any("skipped earlier" in c.value for c in at.caption)
    _key(at, "1")
    assert "All done" in at.success[0].value
    mine = ratings.current_ratings(workspace, seeded.run_id, "quality", rater="ann")
    assert len(mine) == 4


def test_undo_takes_back_the_last_rating_and_shows_its_cell(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    at = _app()
    _start(at)
    _key(at, "5")
    _key(at, "3")
    at.button(key="rate.undo").click().run()
    assert _output(at).startswith("A user reports problem number 0")  # the undone cell
    in_force = ratings.current_ratings(workspace, seeded.run_id, "quality", rater="ann")
    assert [ratings.rating_value(r) for r in in_force] == [5]
    _key(at, "1")  # rated again, on to the next cell due
    assert _output(at).startswith("The customer reports problem number 1")
    # previous twice, then next walks forward again through what was rated
    at.button(key="rate.back").click().run()
    at.button(key="rate.back").click().run()
    assert _output(at).startswith("The customer reports problem number 0")
    assert any("Rated earlier: 5" in c.value for c in at.caption)
    at.button(key="rate.next").click().run()
    assert _output(at).startswith("A user reports problem number 0")
    at.button(key="rate.next").click().run()
    assert _output(at).startswith("The customer reports problem number 1")


def test_thumbs_take_y_and_n_and_labels_toggle_with_digits(workspace) -> None:
    seeded = seed_run(workspace, rows=1)
    at = _app()
    _start(at, "thumbs")
    assert at.button(key="rate.key::Y").label == "👍"
    _key(at, "Y")
    _key(at, "N")
    thumbs = ratings.current_ratings(workspace, seeded.run_id, "thumbs", rater="ann")
    assert [ratings.rating_value(r) for r in thumbs] == [True, False]

    _start(at, "issues")
    at.button(key="rate.key::1").click().run()  # hallucination
    at.button(key="rate.key::4").click().run()  # too long
    at.button(key="rate.save").click().run()
    issues = ratings.current_ratings(workspace, seeded.run_id, "issues", rater="ann")
    assert [ratings.rating_value(r) for r in issues] == [["hallucination", "too long"]]
    assert at.button(key="rate.save").proto.shortcut == "enter"


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
