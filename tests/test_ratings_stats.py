"""The statistics behind pairwise results and agreement, against published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from promptyard import stats as st


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = st.wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    # no trials: no interval (the edge case; (0, 1) before)
    assert all(math.isnan(x) for x in st.wilson_interval(0, 0))
    low, high = st.wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and 0.69 < low < 0.73


def test_bradley_terry_orders_by_strength_and_stays_finite() -> None:
    # 0 beats 1 most of the time, 1 beats 2 most of the time.
    wins = np.array([[0, 8, 9], [2, 0, 7], [1, 3, 0]], dtype=float)
    p = st.bradley_terry(wins)
    assert p.sum() == pytest.approx(1.0)
    assert p[0] > p[1] > p[2]
    sweep = st.bradley_terry(np.array([[0, 5], [0, 0]], dtype=float))
    assert np.all(np.isfinite(sweep)) and sweep[0] > sweep[1] > 0
    elo = st.elo_like(p)
    assert elo[0] > 1000 > elo[2]


def test_bradley_terry_recovers_known_strengths() -> None:
    true = np.array([0.5, 0.3, 0.2])
    n = 1000
    wins = np.array(
        [[0 if i == j else n * true[i] / (true[i] + true[j]) for j in range(3)] for i in range(3)]
    )
    assert st.bradley_terry(wins, prior=0) == pytest.approx(true, abs=1e-4)


def test_cohen_kappa() -> None:
    # The classic 2x2 example: 50 items, agreement 0.7, chance 0.5 -> 0.4.
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert st.cohen_kappa(a, b) == pytest.approx(0.4)
    assert st.cohen_kappa(["x", "y"], ["x", "y"]) == 1.0
    assert st.cohen_kappa([], []) is None


def test_undefined_kappa_is_none_with_a_reason_never_one_or_zero() -> None:
    # everyone used one category: chance agreement is 1, kappa is 0/0
    same = st.cohen_kappa_estimate(["y", "y", "y"], ["y", "y", "y"])
    assert same.value is None and same.reason == st.ONE_CATEGORY
    assert "only one category was used" in same.reason
    assert st.cohen_kappa([True], [True]) is None  # fewer than 2 items
    assert st.cohen_kappa_estimate(["a"], ["b"]).reason == st.FEW_ITEMS
    # one rater constant, the other not: defined (no better than chance)
    assert st.cohen_kappa(["y", "y"], ["y", "n"]) == pytest.approx(0.0)
    assert st.fleiss_kappa([["a", "a"], ["a", "a", "a"]]) is None
    assert st.fleiss_kappa_estimate([["a", "b"]]).reason == st.FEW_ITEMS


def test_fleiss_kappa_wikipedia_example() -> None:
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    items = [[c for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert st.fleiss_kappa(items) == pytest.approx(0.210, abs=1e-3)
    assert st.fleiss_kappa([[1]]) is None


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the reliability data
# with missing values: 4 observers (columns), 12 units (rows).
KRIPPENDORFF_2011 = [
    [1, 1, None, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [None, 5, 5, 5],
    [None, None, 1, 1],
    [None, None, 3, None],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_alpha_reference_values(level: str, published: float) -> None:
    # The paper's results for its data at each level of measurement.
    items = [[v for v in row if v is not None] for row in KRIPPENDORFF_2011]
    assert st.krippendorff_alpha(items, level) == pytest.approx(published, abs=5e-4)


def test_undefined_alpha_is_none_with_a_reason() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        st.krippendorff_alpha([[1, 2], [2, 3]], "stars")
    for level in st.LEVELS:
        same = st.krippendorff_alpha_estimate([[3, 3], [3, 3, 3]], level)
        assert same.value is None and same.reason
        one = st.krippendorff_alpha_estimate([[1, 5]], level)  # a single unit
        assert one.value is None and one.reason == st.FEW_ITEMS
    assert st.krippendorff_alpha([[1], [2], [3]]) is None  # nothing pairable
    # ordinal alpha sees that 1 vs 2 is a smaller disagreement than 1 vs 5
    near = [[1, 2], [3, 3], [4, 4], [5, 5], [2, 2]]
    far = [[1, 5], [3, 3], [4, 4], [5, 5], [2, 2]]
    assert st.krippendorff_alpha(near, "ordinal") > st.krippendorff_alpha(far, "ordinal")  # type: ignore[operator]
    assert st.krippendorff_alpha(near, "nominal") == st.krippendorff_alpha(far, "nominal")


def test_pearson_and_spearman_match_published_examples() -> None:
    # Anscombe's quartet, first set: r = 0.816.
    x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
    y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]
    assert st.pearson(x, y) == pytest.approx(0.816, abs=5e-4)
    # Wikipedia's Spearman example (IQ against hours of TV a week): rho = -29/165.
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    assert st.spearman(iq, tv) == pytest.approx(-29 / 165)
    # ties share their mean rank: a monotone relation with ties is still 1
    assert st.spearman([1, 2, 2, 3], [10, 20, 20, 30]) == pytest.approx(1.0)


def test_undefined_correlation_is_none_with_a_reason() -> None:
    assert st.pearson_estimate([0.5], [0.5]).reason == st.FEW_PAIRS
    flat = st.spearman_estimate([1, 1, 1], [0.2, 0.5, 0.9])
    assert flat.value is None and flat.reason == st.CONSTANT
    assert st.pearson([1, 2, 3], [4, 4, 4]) is None


def test_dispute() -> None:
    assert st.dispute([3, 3, 3], "interval", 4) == 0
    assert st.dispute([1, 5], "interval", 4) == 1
    assert st.dispute(["a", "b"]) == 1
    assert st.dispute(["a", "a", "b"]) == pytest.approx(0.5)
    assert st.dispute([2, 4], "ordinal", 4) == pytest.approx(0.5)
