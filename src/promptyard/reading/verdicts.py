"""Per variant: the cells a suite scored and those that passed every suite that scored
them, the pass rate of Compare's header.

Every completed run is scored by the default checks, so a run of a million cells has
millions of verdicts; counting them per variant means grouping every one by its cell.
The answer is kept in `variant_verdicts` per run with the signature it was computed
against (the count and highest id of the run's verdicts: scores are added or deleted,
never edited), and counted again only when that changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from promptyard.storage import db
from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

ROW_SCORE = "row"  # the Score.name of a suite's per-cell verdict (evals writes it)
_RUN_MARK = 0  # the variant_id of the row holding a run's signature

_SIGNATURES = text(
    "SELECT run_id, COUNT(*), MAX(id) FROM score"
    " WHERE run_id IN :runs AND name = :row AND evaluator = 'suite' GROUP BY run_id"
).bindparams(bindparam("runs", expanding=True))
_STORED = text(
    "SELECT run_id, variant_id, signature, scored, passed FROM variant_verdicts"
    " WHERE run_id IN :runs"
).bindparams(bindparam("runs", expanding=True))
_COUNT = text(
    "SELECT c.run_id, c.variant_id, COUNT(*), SUM(CASE WHEN v.failed = 0 THEN 1 ELSE 0 END)"
    " FROM (SELECT s.cell_id AS cell_id, SUM(CASE WHEN s.passed THEN 0 ELSE 1 END) AS failed"
    " FROM score s WHERE s.run_id IN :runs AND s.name = :row AND s.evaluator = 'suite'"
    " GROUP BY s.cell_id) AS v JOIN cell c ON c.id = v.cell_id GROUP BY c.run_id, c.variant_id"
).bindparams(bindparam("runs", expanding=True))
_DELETE = text("DELETE FROM variant_verdicts WHERE run_id IN :runs").bindparams(
    bindparam("runs", expanding=True)
)
_INSERT = text(
    "INSERT INTO variant_verdicts (run_id, variant_id, signature, scored, passed)"
    " VALUES (:run_id, :variant_id, :signature, :scored, :passed)"
)


def variant_verdicts(ws: Workspace, run_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per variant id of the runs: (cells scored by a suite, cells that passed every suite
    that scored them). Variants with no verdict are left out."""
    runs = sorted({int(r) for r in run_ids})
    if not runs:
        return {}
    with db.session(ws) as s:
        conn = s.connection()
        signature = {
            int(r): f"{n}|{top}"
            for r, n, top in conn.execute(_SIGNATURES, {"runs": runs, "row": ROW_SCORE})
        }
        stored: dict[int, dict[int, tuple[str, int, int]]] = {}
        for r, v, sig, scored, passed in conn.execute(_STORED, {"runs": runs}):
            stored.setdefault(int(r), {})[int(v)] = (str(sig), int(scored), int(passed))
        out: dict[int, tuple[int, int]] = {}
        stale = []
        for r in runs:
            want = signature.get(r)
            rows = stored.get(r, {})
            mark = rows.get(_RUN_MARK)
            if want is None:  # no verdicts at all: nothing to count, nothing to keep
                continue
            if mark is not None and mark[0] == want:
                out.update({v: (n, p) for v, (_, n, p) in rows.items() if v != _RUN_MARK})
            else:
                stale.append(r)
        if not stale:
            return out
        counted = [
            (int(r), int(v), int(n), int(p or 0))
            for r, v, n, p in conn.execute(_COUNT, {"runs": stale, "row": ROW_SCORE})
        ]
    out.update({v: (n, p) for _, v, n, p in counted})
    records = [
        {"run_id": r, "variant_id": v, "signature": signature[r], "scored": n, "passed": p}
        for r, v, n, p in counted
    ] + [
        {"run_id": r, "variant_id": _RUN_MARK, "signature": signature[r], "scored": 0, "passed": 0}
        for r in stale
    ]

    def save(s: object) -> None:
        s.execute(_DELETE, {"runs": stale})  # type: ignore[attr-defined]
        s.execute(_INSERT, records)  # type: ignore[attr-defined]

    try:
        db.write(ws, save)
    except SQLAlchemyError as exc:  # busy or read-only: counted again next time
        log.info("variant_verdicts not stored (counted again next time): %s", exc)
    return out
