"""The statistics behind pairwise results and agreement, against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from promptyard import stats as st


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = st.wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    assert st.wilson_interval(0, 0) == (0.0, 1.0)
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


def test_krippendorff_alpha_reference_values() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the example with
    # missing values: nominal alpha = 0.743, interval alpha = 0.849.
    data = [
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
    items = [[v for v in row if v is not None] for row in data]
    assert st.krippendorff_alpha(items, "nominal") == pytest.approx(0.743, abs=1e-3)
    assert st.krippendorff_alpha(items, "interval") == pytest.approx(0.849, abs=1e-3)
    with pytest.raises(ValueError):
        st.krippendorff_alpha(items, "ratio")


def test_dispute() -> None:
    assert st.dispute([3, 3, 3], "interval", 4) == 0
    assert st.dispute([1, 5], "interval", 4) == 1
    assert st.dispute(["a", "b"]) == 1
    assert st.dispute(["a", "a", "b"]) == pytest.approx(0.5)
