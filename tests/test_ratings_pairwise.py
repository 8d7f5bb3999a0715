"""Blind pairwise sessions, their results, and agreement between raters of a run."""

from __future__ import annotations

import pytest

from promptyard import ratings
from promptyard.errors import NotFoundError
from promptyard.ratings import RatingError, run_agreement, scheme_agreement
from tests.ratings_seed import seed_run

THREE = [("summarize", 1, "sim-fast"), ("summarize", 2, "sim-fast"), ("summarize", 2, "sim-smart")]


@pytest.fixture
def ws(empty_workspace):  # type: ignore[no-untyped-def]
    ratings.save_schemes(empty_workspace, ratings.DEFAULT_RATINGS_YAML, "Add rating schemes")
    return empty_workspace


def test_pairs_cover_every_row_and_variant_pair_with_seeded_sides(ws) -> None:
    seeded = seed_run(ws, rows=20, variants=THREE, errors=[(0, 2)])
    pairs = ratings.make_pairs(ws, seeded.run_id, seed=7)
    assert len(pairs) == 20 * 3 - 2  # row 0 lost its pairs with the failed cell
    assert len({(p.row_id, p.variant_a_id, p.variant_b_id) for p in pairs}) == len(pairs)
    sides = [p.a_shown_left for p in pairs]
    assert 0.2 < sum(sides) / len(sides) < 0.8  # both sides used
    again = ratings.make_pairs(ws, seeded.run_id, seed=7)
    assert again == pairs  # the seed fixes order and sides
    other = ratings.make_pairs(ws, seeded.run_id, seed=8)
    assert [p.a_shown_left for p in other] != sides or other != pairs


def test_side_choice_maps_back_to_the_variant() -> None:
    pair = ratings.Pair("r1", 10, 11, 1, 2, a_shown_left=False, output_a="A", output_b="B")
    assert (pair.left, pair.right) == ("B", "A")
    assert pair.choice_for("left") == "b"
    assert pair.choice_for("right") == "a"
    assert pair.choice_for("tie") == "tie"
    with pytest.raises(RatingError, match="unknown choice"):
        pair.choice_for("up")


def test_pairwise_session_walks_the_pairs_and_records_sides(ws) -> None:
    seeded = seed_run(ws, rows=4)
    v1, v2 = seeded.variant_ids
    sess = ratings.open_session(ws, seeded.run_id, "pairwise", variant_ids=[v1, v2], seed=3)
    assert ratings.pairwise_progress(ws, sess.id, "ann") == (0, 4)
    rows = []
    pair = ratings.next_pair(ws, sess.id, "ann")
    while pair is not None:
        rows.append(pair.row_id)
        assert pair.left and pair.right and pair.inputs
        vote = ratings.record_vote(ws, pair, pair.choice_for("left"), "ann", sess.id)
        assert vote.a_shown_left == pair.a_shown_left
        # whatever side it was shown on, the left output's variant got the win
        winner = vote.variant_a_id if vote.choice == "a" else vote.variant_b_id
        left_variant = pair.variant_a_id if pair.a_shown_left else pair.variant_b_id
        assert winner == left_variant
        pair = ratings.next_pair(ws, sess.id, "ann")
    assert sorted(rows) == seeded.row_ids
    assert ratings.pairwise_progress(ws, sess.id, "ann") == (4, 4)
    assert ratings.next_pair(ws, sess.id, "bob") is not None  # bob has his own walk
    assert ratings.rating_counts(ws, seeded.run_id)["pairwise"] == 4


def test_pairwise_results_win_rates_intervals_and_bradley_terry(ws) -> None:
    seeded = seed_run(ws, rows=30, variants=THREE)
    best, mid, worst = seeded.variant_ids
    for pair in ratings.make_pairs(ws, seeded.run_id, seed=1):
        order = {best: 0, mid: 1, worst: 2}
        row = int(pair.row_id[1:])
        if row % 5 == 0:
            choice = "tie"
        elif row % 7 == 0:
            choice = "both_bad"
        else:
            choice = "a" if order[pair.variant_a_id] < order[pair.variant_b_id] else "b"
        ratings.record_vote(ws, pair, choice, "ann")
    standings = ratings.pairwise_results(ws, seeded.run_id)
    assert [s.variant_id for s in standings] == [best, mid, worst]
    top = standings[0]
    assert top.comparisons == 60 and top.losses == 0 and top.ties == 12 and top.both_bad == 8
    assert top.win_rate == pytest.approx((40 + 10) / 60)
    assert top.ci_low < top.win_rate < top.ci_high
    assert standings[2].ci_high < 0.5 < top.ci_low
    assert sum(s.bt_strength for s in standings) == pytest.approx(1.0)
    assert standings[0].bt_elo > standings[1].bt_elo > standings[2].bt_elo
    assert "v1" in top.label


def test_bad_votes_are_refused(ws) -> None:
    seeded = seed_run(ws, rows=2)
    pair = ratings.make_pairs(ws, seeded.run_id)[0]
    with pytest.raises(RatingError, match="unknown choice 'left'"):
        ratings.record_vote(ws, pair, "left", "ann")
    mixed = ratings.Pair(
        pair.row_id,
        pair.cell_a_id,
        seeded.cell_id(1, 1) if pair.row_id == "r00000" else seeded.cell_id(0, 1),
        pair.variant_a_id,
        pair.variant_b_id,
        True,
    )
    with pytest.raises(RatingError, match="same row"):
        ratings.record_vote(ws, mixed, "a", "ann")
    ghost = ratings.Pair(
        pair.row_id, 99_999, pair.cell_b_id, pair.variant_a_id, pair.variant_b_id, True
    )
    with pytest.raises(NotFoundError, match="cell 99999 does not exist"):
        ratings.record_vote(ws, ghost, "a", "ann")
    assert ratings.pairwise_results(ws, seeded.run_id) == []
    with pytest.raises(RatingError, match="two variants"):
        ratings.open_session(ws, seeded.run_id, "pairwise", variant_ids=[seeded.variant_ids[0]])


# --- agreement -------------------------------------------------------------------------


def test_agreement_two_raters_cohen_and_disputed_cells(ws) -> None:
    seeded = seed_run(ws, rows=5)
    ann = [5, 4, 4, 2, 1, 3, 3, 5, 1, 2]
    bob = [5, 4, 3, 2, 1, 3, 3, 5, 5, 2]
    for i, (a, b) in enumerate(zip(ann, bob, strict=True)):
        cell = seeded.cell_id(i // 2, i % 2)
        ratings.rate_cell(ws, cell, "quality", a, "ann")
        ratings.rate_cell(ws, cell, "quality", b, "bob")
    ratings.rate_cell(ws, seeded.cell_id(0, 0), "thumbs", True, "ann")  # one rater: no agreement
    report = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "quality"))
    assert report.raters == ["ann", "bob"] and report.cells_shared == 10
    assert report.method == "Cohen's kappa"
    assert report.cohen_kappa is not None and 0.6 < report.cohen_kappa < 0.9
    assert report.krippendorff_alpha is not None and report.krippendorff_alpha < 1
    assert [d.cell_id for d in report.disputed] == [seeded.cell_id(4, 0), seeded.cell_id(1, 0)]
    assert report.disputed[0].dispute == 1.0 and report.disputed[0].values == {"ann": 1, "bob": 5}
    by_scheme = {r.scheme: r for r in run_agreement(ws, seeded.run_id)}
    assert set(by_scheme) == {"quality", "thumbs"}
    assert by_scheme["thumbs"].cells_shared == 0 and by_scheme["thumbs"].krippendorff_alpha is None


def test_agreement_three_raters_fleiss_and_label_sets(ws) -> None:
    seeded = seed_run(ws, rows=3)
    votes = {
        "ann": [True, True, False, True, False, True],
        "bob": [True, True, False, False, False, True],
        "cy": [True, False, False, True, False, True],
    }
    for rater, values in votes.items():
        for i, v in enumerate(values):
            ratings.rate_cell(ws, seeded.cell_id(i // 2, i % 2), "thumbs", v, rater)
    report = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "thumbs"))
    assert report.cohen_kappa is None and report.method == "Fleiss' kappa"
    assert report.fleiss_kappa is not None and 0 < report.fleiss_kappa < 1
    assert len(report.disputed) == 2
    for rater in ("ann", "bob"):
        ratings.rate_cell(ws, seeded.cell_id(0), "issues", ["too long", "off-topic"], rater)
    same_set = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "issues"))
    assert same_set.disputed == []  # the same labels in any order agree


def test_numeric_agreement_is_ordinal_krippendorff(ws) -> None:
    from promptyard import stats

    seeded = seed_run(ws, rows=3)
    values = {"ann": [1, 2, 5, 4, 3, 3], "bob": [2, 2, 4, 4, 3, 1]}
    for rater, row in values.items():
        for i, v in enumerate(row):
            ratings.rate_cell(ws, seeded.cell_id(i // 2, i % 2), "quality", v, rater)
    report = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "quality"))
    items = [[a, b] for a, b in zip(values["ann"], values["bob"], strict=True)]
    assert report.level == "ordinal"
    assert report.krippendorff_alpha == pytest.approx(stats.krippendorff_alpha(items, "ordinal"))
    assert report.krippendorff_alpha != pytest.approx(stats.krippendorff_alpha(items, "interval"))
    assert report.reasons == {}


def test_undefined_agreement_is_none_with_the_reason_never_one(ws) -> None:
    seeded = seed_run(ws, rows=2)
    for rater in ("ann", "bob"):
        for i in range(4):  # everyone gives a thumbs up everywhere
            ratings.rate_cell(ws, seeded.cell_id(i // 2, i % 2), "thumbs", True, rater)
    report = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "thumbs"))
    assert report.method == "Cohen's kappa" and report.cells_shared == 4
    assert report.cohen_kappa is None and report.fleiss_kappa is None
    assert report.krippendorff_alpha is None and report.value is None
    assert report.reason == "only one category was used, so agreement is undefined"
    assert set(report.reasons) == {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha"}
    ratings.rate_cell(ws, seeded.cell_id(0), "quality", 3, "ann")  # nobody else rated it
    lonely = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "quality"))
    assert (
        lonely.value is None and lonely.reason and "no cell has two or more raters" in lonely.reason
    )
    ratings.rate_cell(ws, seeded.cell_id(0), "comment", "fine", "ann")
    ratings.rate_cell(ws, seeded.cell_id(0), "comment", "meh", "bob")
    text = scheme_agreement(ws, seeded.run_id, ratings.get_scheme(ws, "comment"))
    assert text.krippendorff_alpha is None and text.reason == "free-text ratings have no agreement"
    assert text.to_dict()["reasons"]["krippendorff_alpha"] == text.reason
