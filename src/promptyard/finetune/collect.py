"""The examples a fine-tuning export is made of: cells over the bar, A/B votes, live traces.

SFT: a run's cells that answered, whose human rating (the mean 0..1 score of the current
ratings, under `scheme` or every scored scheme) or, unrated, whose suite score (the `row`
score of its suites) is at least `min_score`; and LLM spans whose end-user feedback,
mapped to 0..1 by its rating scheme, is. People outrank code: a rated cell goes by its
rating. DPO: per pair of cells shown in blind A/B votes, the side more votes chose is
preferred (ties, `tie` and `both_bad` votes choose nothing); and per identical input seen
in traces, the best-scored answer over the bar against the worst one under it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text

from promptyard.errors import NotFoundError
from promptyard.storage import db
from promptyard.storage.payloads import payload_sql
from promptyard.traces.scrub import request_secrets, scrub_text
from promptyard.workspace import Workspace


@dataclass
class Collected:
    """The examples found, where each came from, and what was left out and why."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)  # ratings, suite, votes, traces
    considered: int = 0  # candidates looked at (answered cells, voted pairs, spans)
    below_bar: int = 0
    unscored: int = 0  # no rating, suite score or vote to judge it by
    best: float | None = None  # the best score seen, for "nothing over the bar" messages
    notes: Counter[str] = field(default_factory=Counter)  # other reasons, e.g. empty output


class _Scrubber:
    def __init__(self) -> None:
        self.secrets = request_secrets()

    def messages(self, raw: Any) -> list[dict[str, str]] | None:
        """Chat messages as role + text content, keys scrubbed; None when not that shape."""
        if not isinstance(raw, list):
            return None
        out = []
        for m in raw:
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                return None
            content = m.get("content")
            if not isinstance(content, str):
                return None
            out.append({"role": m["role"], "content": scrub_text(content, self.secrets)})
        return out

    def text(self, value: str) -> str:
        return scrub_text(value, self.secrets)


def _check_runs(conn: Any, run_ids: Sequence[int]) -> None:
    if not run_ids:
        return
    found = {
        r[0]
        for r in conn.execute(
            text("SELECT id FROM run WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": list(run_ids)},
        )
    }
    missing = [r for r in run_ids if r not in found]
    if missing:
        raise NotFoundError(f"no run {missing[0]}")


def _seen_best(got: Collected, score: float) -> None:
    got.best = score if got.best is None else max(got.best, score)


def sft_from_runs(
    ws: Workspace, run_ids: Sequence[int], min_score: float, scheme: str | None, got: Collected
) -> None:
    """Add the runs' answered cells whose rating (else suite score) clears `min_score`."""
    if not run_ids:
        return
    ids = {"ids": list(run_ids)}
    expanding: Any = bindparam("ids", expanding=True)
    scheme_sql = " AND scheme = :scheme" if scheme else ""
    with db.session(ws) as s:
        conn = s.connection()
        _check_runs(conn, run_ids)
        ratings: dict[int, list[float]] = defaultdict(list)
        for r in conn.execute(
            text(
                "SELECT cell_id, scheme, AVG(score) AS score FROM rating WHERE run_id IN :ids"
                " AND superseded_by IS NULL AND score IS NOT NULL"
                + scheme_sql
                + " GROUP BY cell_id, scheme"
            ).bindparams(expanding),
            {**ids, "scheme": scheme},
        ):
            ratings[int(r.cell_id)].append(float(r.score))
        suite: dict[int, list[float]] = defaultdict(list)
        if not scheme:  # a named scheme asks for people's judgement only
            for r in conn.execute(
                text(
                    "SELECT cell_id, value FROM score WHERE run_id IN :ids AND evaluator = 'suite'"
                    " AND name = 'row' AND value IS NOT NULL"
                    # The default checks (non-empty, valid JSON) every run gets are no
                    # judgement of quality: they never make an answer a training example.
                    " AND (suite IS NULL OR suite <> 'default')"
                ).bindparams(expanding),
                ids,
            ):
                suite[int(r.cell_id)].append(float(r.value))
        cells = conn.execute(
            text(
                f"SELECT id, {payload_sql().messages} AS messages_json, output FROM cell"
                " WHERE run_id IN :ids AND status = 'ok' ORDER BY run_id, id"
            ).bindparams(expanding),
            ids,
        ).all()
    clean = _Scrubber()
    for c in cells:
        got.considered += 1
        source, values = (
            ("ratings", ratings.get(c.id)) if c.id in ratings else ("suite", suite.get(c.id))
        )
        if not values:
            got.unscored += 1
            continue
        score = sum(values) / len(values)
        _seen_best(got, score)
        if score < min_score:
            got.below_bar += 1
            continue
        messages = clean.messages(json.loads(c.messages_json or "[]"))
        if messages is None:
            got.notes["messages not in chat form"] += 1
            continue
        if not (c.output or "").strip():
            got.notes["empty output"] += 1
            continue
        messages.append({"role": "assistant", "content": clean.text(c.output)})
        got.examples.append({"messages": messages})
        got.sources[source] += 1


def _cell(conn: Any, cell_id: int) -> Any:
    return conn.execute(
        text(
            f"SELECT id, {payload_sql().messages} AS messages_json, output, status FROM cell"
            " WHERE id = :i"
        ),
        {"i": cell_id},
    ).first()


def dpo_from_votes(ws: Workspace, run_ids: Sequence[int], got: Collected) -> None:
    """Add a preference pair per pair of cells whose blind A/B votes chose one side."""
    if not run_ids:
        return
    with db.session(ws) as s:
        conn = s.connection()
        _check_runs(conn, run_ids)
        votes = conn.execute(
            text(
                "SELECT cell_a_id, cell_b_id, choice FROM pairwise_vote WHERE run_id IN :ids"
                " ORDER BY id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(run_ids)},
        ).all()
        tally: dict[tuple[int, int], Counter[int]] = {}
        for v in votes:
            key = (min(v.cell_a_id, v.cell_b_id), max(v.cell_a_id, v.cell_b_id))
            wins = tally.setdefault(key, Counter())
            if v.choice == "a":
                wins[v.cell_a_id] += 1
            elif v.choice == "b":
                wins[v.cell_b_id] += 1
        cells = {i: _cell(conn, i) for key in tally for i in key}
    clean = _Scrubber()
    for (x, y), wins in tally.items():
        got.considered += 1
        if wins[x] == wins[y]:
            got.unscored += 1  # no side won: ties, "tie" and "both bad"
            continue
        good, bad = (cells[x], cells[y]) if wins[x] > wins[y] else (cells[y], cells[x])
        if not (good.output or "").strip() or not (bad.output or "").strip():
            got.notes["a side has no output"] += 1
            continue
        if good.output == bad.output:
            got.notes["both sides answered the same"] += 1
            continue
        messages = clean.messages(json.loads(good.messages_json or "[]"))
        if messages is None or not messages or messages[-1]["role"] != "user":
            got.notes["input does not end with a user message"] += 1
            continue
        if good.messages_json != bad.messages_json:
            got.notes["inputs differed (the preferred side's prompt is the input)"] += 1
        got.examples.append(
            {
                "input": {"messages": messages},
                "preferred_output": [{"role": "assistant", "content": clean.text(good.output)}],
                "non_preferred_output": [{"role": "assistant", "content": clean.text(bad.output)}],
            }
        )
        got.sources["votes"] += 1


def _trace_scores(ws: Workspace, scheme: str | None) -> list[tuple[Any, float]]:
    """(span, feedback score 0..1) for every LLM span with numeric end-user feedback."""
    from promptyard.ratings import load_schemes

    schemes = {s.name: s for s in load_schemes(ws)}
    sql = (
        "SELECT DISTINCT f.id AS fid, f.name AS scheme, f.value AS value, s.id AS sid,"
        " s.input_messages_json AS input, s.output_text AS output"
        " FROM trace_feedback f JOIN span s ON s.trace_id = f.trace_id"
        " WHERE s.is_llm AND f.value IS NOT NULL AND (f.span_id IS NULL OR f.span_id = s.span_id)"
        + (" AND f.name = :scheme" if scheme else "")
        + " ORDER BY s.id"
    )
    with db.session(ws) as s:
        rows = s.connection().execute(text(sql), {"scheme": scheme}).all()
    per_span: dict[int, list[float]] = defaultdict(list)
    spans: dict[int, Any] = {}
    for r in rows:
        known = schemes.get(r.scheme)
        # Stored values were validated on arrival; the scheme maps them onto 0..1.
        score = known.score(r.value) if known else None
        if score is not None:
            per_span[r.sid].append(float(score))
            spans[r.sid] = r
    return [(spans[i], sum(v) / len(v)) for i, v in per_span.items()]


def from_traces(
    ws: Workspace, fmt: str, min_score: float, scheme: str | None, got: Collected
) -> None:
    """SFT: spans whose feedback clears the bar. DPO: per identical input, best vs worst."""
    clean = _Scrubber()
    groups: dict[str, list[tuple[float, str, list[dict[str, str]]]]] = defaultdict(list)
    for span, score in _trace_scores(ws, scheme):
        got.considered += 1
        _seen_best(got, score)
        messages = clean.messages(json.loads(span.input or "null"))
        if not messages or not (span.output or "").strip():
            got.notes["span without chat input or output"] += 1
            continue
        if fmt == "sft":
            if score < min_score:
                got.below_bar += 1
                continue
            got.examples.append(
                {"messages": [*messages, {"role": "assistant", "content": clean.text(span.output)}]}
            )
            got.sources["traces"] += 1
        else:
            groups[json.dumps(messages, sort_keys=True)].append((score, span.output, messages))
    for answers in groups.values():
        best = max(answers, key=lambda a: a[0])
        worst = min(answers, key=lambda a: a[0])
        if best[0] < min_score or worst[0] >= min_score or best[1] == worst[1]:
            got.below_bar += 1
            continue
        if best[2][-1]["role"] != "user":
            got.notes["input does not end with a user message"] += 1
            continue
        got.examples.append(
            {
                "input": {"messages": best[2]},
                "preferred_output": [{"role": "assistant", "content": clean.text(best[1])}],
                "non_preferred_output": [{"role": "assistant", "content": clean.text(worst[1])}],
            }
        )
        got.sources["traces"] += 1
