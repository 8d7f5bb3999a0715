"""Judge calibration's statistics come from promptyard.stats; undefined ones say why."""

from __future__ import annotations

import json

import pytest

from promptyard import stats
from promptyard.evals.calibration import calibrate
from promptyard.storage import db
from promptyard.storage.tables import Rating, Score
from tests.ratings_seed import seed_run


def _score(ws, seeded, human: list[float], judge: list[float]) -> None:  # type: ignore[no-untyped-def]
    def add(s) -> None:  # type: ignore[no-untyped-def]
        for i, (h, j) in enumerate(zip(human, judge, strict=True)):
            cell = seeded.cell_id(i)
            s.add(
                Rating(
                    cell_id=cell,
                    run_id=seeded.run_id,
                    scheme="quality",
                    rater="ann",
                    value_json=json.dumps(h),
                    score=h,
                )
            )
            s.add(
                Score(
                    cell_id=cell,
                    run_id=seeded.run_id,
                    evaluator="llm-rubric",
                    name="rubric",
                    value=j,
                    passed=j >= 0.5,
                )
            )

    db.write(ws, add)


def test_calibration_uses_the_stats_correlations(empty_workspace) -> None:
    ws = empty_workspace
    seeded = seed_run(ws, rows=5, variants=[("p", 1, "m")])
    human, judge = [0.0, 0.25, 0.5, 0.75, 1.0], [0.1, 0.3, 0.2, 0.9, 0.8]
    _score(ws, seeded, human, judge)
    cal = calibrate(ws, run_id=seeded.run_id)
    assert cal.n == 5 and cal.reasons == {}
    assert cal.pearson == pytest.approx(stats.pearson(human, judge))
    assert cal.spearman == pytest.approx(0.8)  # ranks 1..5 against 1, 3, 2, 5, 4
    assert cal.kappa == pytest.approx(
        stats.cohen_kappa([h >= 0.5 for h in human], [j >= 0.5 for j in judge])
    )


def test_undefined_calibration_is_none_with_the_reason(empty_workspace) -> None:
    ws = empty_workspace
    seeded = seed_run(ws, rows=3, variants=[("p", 1, "m")])
    assert calibrate(ws, run_id=seeded.run_id).reasons["agreement"].startswith("no cell has")
    _score(ws, seeded, [1.0, 1.0, 1.0], [0.9, 0.6, 0.7])  # people and judge all say pass
    cal = calibrate(ws, run_id=seeded.run_id)
    assert cal.pearson is None and cal.reasons["pearson"] == stats.CONSTANT
    assert cal.kappa is None  # one category: undefined, not 1.0
    assert cal.reasons["kappa"] == "only one category was used, so agreement is undefined"
    assert cal.agreement == 1.0 and "agreement" not in cal.reasons
    assert cal.to_dict()["reasons"]["kappa"] == cal.reasons["kappa"]
