"""Small databases for the dashboard's tests, inserted row by row with db.write.

`seed_small` holds values chosen so every aggregate can be worked out by hand (the
expected numbers are spelled out in tests/test_analytics.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from promptyard.storage import db
from promptyard.storage.tables import Cell, PairwiseVote, Rating, Run, Score, Variant


@dataclass
class Seeded:
    run1: int
    run2: int
    playground: int
    v1: int  # summarize v1 · sim-fast (run 1)
    v2: int  # summarize v2 · sim-fast (run 1)
    v3: int  # summarize v2 · sim-smart (run 1)
    v4: int  # summarize v1 · sim-fast (run 2): pooled with v1


def _cell(run: Run, variant: Variant, i: int, **kw: Any) -> Cell:
    values: dict[str, Any] = {
        "status": "ok",
        "output": f"answer {i}",
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "cost_usd": 0.001,
        "latency_ms": 100.0,
    }
    values.update(kw)
    return Cell(run_id=run.id, variant_id=variant.id, row_id=f"r{i}", row_index=i, **values)


def seed_small(ws: Any) -> Seeded:
    def fill(s: Session) -> Seeded:
        run1 = Run(
            name="nightly",
            dataset_name="tickets",
            status="completed",
            created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
        )
        run2 = Run(
            name="faq check",
            dataset_name="faq",
            status="completed",
            created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        )
        play = Run(name="scratch", kind="playground", created_at=datetime(2026, 11, 2, tzinfo=UTC))
        s.add_all([run1, run2, play])
        s.flush()
        v1 = Variant(run_id=run1.id, prompt_name="summarize", prompt_version=1, model="sim-fast")
        v2 = Variant(run_id=run1.id, prompt_name="summarize", prompt_version=2, model="sim-fast")
        v3 = Variant(run_id=run1.id, prompt_name="summarize", prompt_version=2, model="sim-smart")
        v4 = Variant(run_id=run2.id, prompt_name="summarize", prompt_version=1, model="sim-fast")
        vp = Variant(run_id=play.id, prompt_name="summarize", prompt_version=None, model="sim-fast")
        s.add_all([v1, v2, v3, v4, vp])
        s.flush()

        # v1: 4 ok cells (100..400 ms, $0.001, 10 in / 20 out) and one error.
        c1 = [_cell(run1, v1, i, latency_ms=100.0 * (i + 1)) for i in range(4)]
        c1.append(
            _cell(run1, v1, 4, status="error", error_kind="timeout", output=None, cost_usd=None,
                  prompt_tokens=None, completion_tokens=None, latency_ms=60_000.0)
        )  # fmt: skip
        # v2: 20 ok cells 10..200 ms at $0.002 (one of unknown price), 30 in / 50 out,
        # and one cached cell (1 ms) that latency leaves out.
        c2 = [
            _cell(run1, v2, i, latency_ms=10.0 * (i + 1), cost_usd=0.002 if i else None,
                  prompt_tokens=30, completion_tokens=50)
            for i in range(20)
        ]  # fmt: skip
        c2.append(
            _cell(run1, v2, 20, latency_ms=1.0, cost_usd=0.002, cached=True, prompt_tokens=30,
                  completion_tokens=50)
        )  # fmt: skip
        # v3: 2 ok cells, 1000 and 3000 ms, $0.01 each, 40 in / 100 out.
        c3 = [
            _cell(run1, v3, i, latency_ms=ms, cost_usd=0.01, prompt_tokens=40,
                  completion_tokens=100)
            for i, ms in enumerate((1000.0, 3000.0))
        ]  # fmt: skip
        # v4 (same key as v1, in run 2): 500 and 600 ms.
        c4 = [_cell(run2, v4, i, latency_ms=ms) for i, ms in enumerate((500.0, 600.0))]
        cp = [_cell(play, vp, 0, latency_ms=5.0, cost_usd=5.0)]
        s.add_all(c1 + c2 + c3 + c4 + cp)
        s.flush()

        def rate(cell: Cell, score: float, rater: str = "alice", **kw: Any) -> Rating:
            r = Rating(cell_id=cell.id, run_id=cell.run_id, scheme="quality", rater=rater,
                       value_json=str(score), score=score, **kw)  # fmt: skip
            s.add(r)
            s.flush()
            return r

        # v1: cell0 = 1.0 (an older 0.0 superseded), cell1 = 0.5, cell2 = mean(0.0, 1.0) = 0.5
        new = rate(c1[0], 1.0)
        rate(c1[0], 0.0, superseded_by=new.id)
        rate(c1[1], 0.5)
        rate(c1[2], 0.0)
        rate(c1[2], 1.0, rater="bob")
        # v2: six cells at 0.75, two at 0.5
        for cell, score in zip(c2[:8], (0.75,) * 6 + (0.5, 0.5), strict=True):
            rate(cell, score)
        # another scheme, left out when the filter names "quality"
        s.add(Rating(cell_id=c3[0].id, run_id=run1.id, scheme="thumbs", rater="alice",
                     value_json="true", score=1.0))  # fmt: skip

        def vote(a: Cell, b: Cell, choice: str) -> None:
            s.add(PairwiseVote(run_id=run1.id, row_id=a.row_id, cell_a_id=a.id, cell_b_id=b.id,
                               variant_a_id=a.variant_id, variant_b_id=b.variant_id,
                               choice=choice, rater="alice"))  # fmt: skip

        # v2 vs v3: a, a, tie; v1 vs v2: b, both_bad.
        vote(c2[0], c3[0], "a")
        vote(c2[1], c3[1], "a")
        vote(c2[2], c3[0], "tie")
        vote(c1[0], c2[0], "b")
        vote(c1[1], c2[1], "both_bad")

        def score(cell: Cell, passed: bool | None, value: float | None) -> None:
            s.add(Score(cell_id=cell.id, run_id=cell.run_id, evaluator="contains",
                        name="mentions total", passed=passed, value=value))  # fmt: skip

        score(c1[0], True, 1.0)
        score(c1[1], True, 1.0)
        score(c1[2], False, 0.0)
        score(c1[3], None, 0.4)
        score(c2[0], True, 1.0)
        score(c2[1], True, 1.0)
        assert run1.id and run2.id and play.id and v1.id and v2.id and v3.id and v4.id
        return Seeded(run1.id, run2.id, play.id, v1.id, v2.id, v3.id, v4.id)

    return db.write(ws, fill)


def seed_versions(ws: Any, versions: int = 3, models: tuple[str, ...] = ("sim-fast", "sim-smart"),
                  rows: int = 12, prompt: str = "summarize") -> int:  # fmt: skip
    """One run of `prompt` v1..vN on each model, every cell rated: quality rises with
    the version and costs more on sim-smart. Returns the run id."""

    def fill(s: Session) -> int:
        run = Run(name="versions", dataset_name="tickets", status="completed")
        s.add(run)
        s.flush()
        for m_i, model in enumerate(models):
            for version in range(1, versions + 1):
                v = Variant(run_id=run.id, prompt_name=prompt, prompt_version=version,
                            model=model)  # fmt: skip
                s.add(v)
                s.flush()
                cells = [
                    _cell(run, v, i, latency_ms=200.0 * (m_i + 1) + 15.0 * i + 5 * version,
                          cost_usd=0.0004 * (1 + 4 * m_i) * (1 + 0.1 * version),
                          prompt_tokens=100 + 20 * version, completion_tokens=40 + 10 * m_i)
                    for i in range(rows)
                ]  # fmt: skip
                s.add_all(cells)
                s.flush()
                for i, cell in enumerate(cells):
                    good = (i % (versions + 2)) < version + m_i
                    s.add(Rating(cell_id=cell.id, run_id=run.id, scheme="quality",
                                 rater="alice", value_json="1", score=1.0 if good else 0.25))  # fmt: skip
        assert run.id is not None
        return run.id

    return db.write(ws, fill)
