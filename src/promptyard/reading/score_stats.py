"""Scores summed per variant, kept while the run's scores are unchanged.

Every completed run is scored by the default checks, so a run of a million cells holds
millions of scores, and summing them per variant means joining each to its cell. The
sums are kept in `variant_score_stats` per run, with the generation of the run's scores
they were summed at (every writer of scores bumps it: storage.bump_score_generation), and
summed again only when that has moved on. Two things are kept: per suite,
evaluator and name, the counts, passes, values and judge cost (the suite results); and
per variant the cells that passed every suite that scored them (Compare's pass rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from promptyard.reading.variant_stats import replace_stored
from promptyard.storage import db
from promptyard.workspace import Workspace

ROW_SCORE = "row"  # the Score.name of a suite's per-cell verdict (evals writes it)
EVERY_SUITE = "*"  # the suite of the kept "passed every suite" count
_RUN_MARK = 0  # the variant_id of the row holding a run's signature


def _runs_param(sql: str) -> Any:
    return text(sql).bindparams(bindparam("runs", expanding=True))


_GENERATIONS = _runs_param("SELECT run_id, generation FROM score_generation WHERE run_id IN :runs")
# Runs with scores but no generation yet (scores written before m026): summed each time.
_SCORED = _runs_param(
    "SELECT r.id FROM run r WHERE r.id IN :runs"
    " AND EXISTS (SELECT 1 FROM score s WHERE s.run_id = r.id)"
)
_STORED = _runs_param(
    "SELECT run_id, variant_id, suite, evaluator, name, verdict, signature, n, n_passed,"
    " value_sum, value_n, judge_cost_usd FROM variant_score_stats WHERE run_id IN :runs"
)
# CROSS JOIN keeps SQLite's join order: each score finds its cell by id.
_SUMS = _runs_param(
    "SELECT s.run_id, c.variant_id, COALESCE(s.suite, ''), s.evaluator, s.name,"
    " CASE WHEN s.passed IS NULL THEN 0 ELSE 1 END AS verdict, COUNT(*),"
    " SUM(CASE WHEN s.passed THEN 1 ELSE 0 END), SUM(s.value), COUNT(s.value),"
    " SUM(COALESCE(s.judge_cost_usd, 0)) FROM score s CROSS JOIN cell c"
    " WHERE c.id = s.cell_id AND s.run_id IN :runs"
    " GROUP BY s.run_id, c.variant_id, s.suite, s.evaluator, s.name, verdict"
)
_EVERY = _runs_param(
    "SELECT c.run_id, c.variant_id, COUNT(*), SUM(CASE WHEN v.failed = 0 THEN 1 ELSE 0 END)"
    " FROM (SELECT s.cell_id AS cell_id, SUM(CASE WHEN s.passed THEN 0 ELSE 1 END) AS failed"
    " FROM score s WHERE s.run_id IN :runs AND s.name = :row AND s.evaluator = 'suite'"
    " GROUP BY s.cell_id) AS v JOIN cell c ON c.id = v.cell_id GROUP BY c.run_id, c.variant_id"
)


@dataclass(frozen=True, slots=True)
class ScoreGroup:
    """The scores of one variant of a run under one suite, evaluator and name."""

    run_id: int
    variant_id: int
    suite: str  # "" for scores of no suite; EVERY_SUITE for the passed-every-suite count
    evaluator: str
    name: str
    verdict: bool  # the scores gave a pass or fail (a bare metric's `passed` is None)
    n: int
    n_passed: int
    value_sum: float
    value_n: int  # how many had a value (the mean is over these)
    judge_cost_usd: float

    @property
    def mean_value(self) -> float | None:
        return self.value_sum / self.value_n if self.value_n else None


def score_groups(ws: Workspace | str, run_ids: Sequence[int]) -> list[ScoreGroup]:
    """Every ScoreGroup of the runs (the EVERY_SUITE ones included), read from the kept
    sums where they still match the runs' scores, summed again (and kept) where not."""
    runs = sorted({int(r) for r in run_ids})
    if not runs:
        return []
    with db.session(ws) as s:
        conn = s.connection()
        signature = {int(r): str(g) for r, g in conn.execute(_GENERATIONS, {"runs": runs})}
        unversioned = {int(r) for (r,) in conn.execute(_SCORED, {"runs": runs})} - set(signature)
        kept: dict[int, list[ScoreGroup]] = {}
        marks: dict[int, str] = {}
        for r, v, suite, evaluator, name, verdict, sig, *sums in conn.execute(
            _STORED, {"runs": runs}
        ):
            if int(v) == _RUN_MARK:
                marks[int(r)] = str(sig)
            else:
                group = _group(r, v, suite, evaluator, name, verdict, *sums)
                kept.setdefault(int(r), []).append(group)
        out: list[ScoreGroup] = []
        stale = []
        for r in runs:
            if r in unversioned:
                stale.append(r)
            elif r not in signature:  # never scored: nothing to sum
                continue
            elif marks.get(r) == signature[r]:
                out.extend(kept.get(r, []))
            else:
                stale.append(r)
        if not stale:
            return out
        fresh = [_group(*row) for row in conn.execute(_SUMS, {"runs": stale})]
        fresh += [
            _group(r, v, EVERY_SUITE, "suite", ROW_SCORE, 1, n, p or 0, 0.0, 0, 0.0)
            for r, v, n, p in conn.execute(_EVERY, {"runs": stale, "row": ROW_SCORE})
        ]
    keep = [r for r in stale if r in signature]
    if keep:
        _keep(ws, keep, [g for g in fresh if g.run_id in signature], signature)
    return out + fresh


def variant_verdicts(ws: Workspace | str, run_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per variant id of the runs: (cells scored by a suite, cells that passed every suite
    that scored them). Variants with no verdict are left out."""
    return {
        g.variant_id: (g.n, g.n_passed) for g in score_groups(ws, run_ids) if g.suite == EVERY_SUITE
    }


def _group(
    run_id: Any,
    variant_id: Any,
    suite: Any,
    evaluator: Any,
    name: Any,
    verdict: Any,
    n: Any,
    n_passed: Any,
    value_sum: Any,
    value_n: Any,
    judge_cost: Any,
) -> ScoreGroup:
    return ScoreGroup(
        int(run_id),
        int(variant_id),
        str(suite or ""),
        str(evaluator),
        str(name),
        bool(verdict),
        int(n),
        int(n_passed or 0),
        float(value_sum or 0.0),
        int(value_n or 0),
        float(judge_cost or 0.0),
    )


def _keep(
    ws: Workspace | str, runs: list[int], groups: list[ScoreGroup], signature: dict[int, str]
) -> None:
    """Store the runs' fresh sums in place of their old ones. Best effort: a busy or
    read-only database only means they are summed again next time."""
    records = [
        {
            "run_id": g.run_id,
            "variant_id": g.variant_id,
            "suite": g.suite,
            "evaluator": g.evaluator,
            "name": g.name,
            "verdict": int(g.verdict),
            "signature": signature[g.run_id],
            "n": g.n,
            "n_passed": g.n_passed,
            "value_sum": g.value_sum,
            "value_n": g.value_n,
            "judge_cost_usd": g.judge_cost_usd,
        }
        for g in groups
    ] + [
        {
            "run_id": r,
            "variant_id": _RUN_MARK,
            "suite": "",
            "evaluator": "",
            "name": "",
            "verdict": 0,
            "signature": signature[r],
            "n": 0,
            "n_passed": 0,
            "value_sum": 0.0,
            "value_n": 0,
            "judge_cost_usd": 0.0,
        }
        for r in runs
    ]

    replace_stored(ws, "variant_score_stats", "run_id", records, runs)
