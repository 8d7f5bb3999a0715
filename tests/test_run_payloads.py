"""A run stores each row's inputs and each rendered prompt once (m024), not once per cell,
and every reader gives the same inputs, messages and reference for cells stored that way
and for cells stored the old way (their own copies, written here in plain SQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from promptyard import finetune as ft
from promptyard import ratings, runs
from promptyard.evals.scoring.runner import load_cells
from promptyard.finetune.collect import Collected, sft_from_runs
from promptyard.ratings import next_pair, open_session, session_item
from promptyard.reading import GridFilters, cell_trace, compare
from promptyard.runs import claims
from promptyard.runs.records import load_todo
from promptyard.storage import db
from promptyard.storage.migrations import MIGRATIONS
from tests.ratings_seed import seed_run

ROWS, REPEATS, MODELS = 4, 3, ["sim-fast", "sim-smart"]


def _plan(ws: Any) -> Any:
    return runs.plan_run(
        ws, [("summarize", None)], MODELS, ("summaries", None), slice=f"head:{ROWS}",
        repeats=REPEATS,
    )  # fmt: skip


def _count(ws: Any, sql: str, **params: Any) -> int:
    with db.session(ws) as s:
        return int(s.connection().execute(text(sql), params).scalar_one())


def _copy_columns(conn: Any, table: str, skip: set[str]) -> list[str]:
    return [c["name"] for c in inspect(conn).get_columns(table) if c["name"] not in skip]


def old_shape_copy(ws: Any, run_id: int) -> int:
    """A copy of run `run_id` as cells were stored before m024: each cell with its own
    inputs, reference and messages, its variants with no template group. Plain SQL."""
    engine = db.get_engine(ws)
    with engine.begin() as conn:
        cols = ", ".join(_copy_columns(conn, "run", {"id"}))
        conn.execute(
            text(f"INSERT INTO run ({cols}) SELECT {cols} FROM run WHERE id = :r"), {"r": run_id}
        )
        new_run = conn.execute(text("SELECT MAX(id) FROM run")).scalar_one()
        variant_cols = _copy_columns(conn, "variant", {"id", "run_id", "template"})
        cell_cols = _copy_columns(
            conn,
            "cell",
            {"id", "run_id", "variant_id", "inputs_json", "reference", "messages_json"},
        )
        old_variants = (
            conn.execute(
                text("SELECT id FROM variant WHERE run_id = :r ORDER BY position"), {"r": run_id}
            )
            .scalars()
            .all()
        )
        for old in old_variants:
            vc = ", ".join(variant_cols)
            conn.execute(
                text(
                    f"INSERT INTO variant (run_id, {vc}) SELECT :n, {vc} FROM variant WHERE id = :v"
                ),
                {"n": new_run, "v": old},
            )
            new_variant = conn.execute(text("SELECT MAX(id) FROM variant")).scalar_one()
            cc = ", ".join(cell_cols)
            picked = ", ".join(f"c.{c}" for c in cell_cols)
            conn.execute(
                text(
                    f"""INSERT INTO cell (run_id, variant_id, inputs_json, reference, messages_json, {cc})
                    SELECT :n, :nv, r.inputs_json, r.reference, m.messages_json, {picked}
                    FROM cell c JOIN variant v ON v.id = c.variant_id
                    JOIN run_row r ON r.run_id = c.run_id AND r.row_index = c.row_index
                    JOIN run_message m ON m.run_id = c.run_id AND m.template = v.template
                        AND m.row_index = c.row_index
                    WHERE c.variant_id = :v ORDER BY c.id"""
                ),
                {"n": new_run, "nv": new_variant, "v": old},
            )
    return int(new_run)


def test_a_two_model_repeated_run_stores_each_row_and_prompt_once(workspace: Any, sim: Any) -> None:
    run_id = runs.create_run(workspace, _plan(workspace))
    cells = ROWS * REPEATS * len(MODELS)
    assert _count(workspace, "SELECT COUNT(*) FROM cell WHERE run_id = :r", r=run_id) == cells
    # One template (summarize) on two models: its messages once per row, not per model or repeat.
    assert _count(workspace, "SELECT COUNT(*) FROM run_row WHERE run_id = :r", r=run_id) == ROWS
    assert _count(workspace, "SELECT COUNT(*) FROM run_message WHERE run_id = :r", r=run_id) == ROWS
    own = _count(
        workspace,
        "SELECT COUNT(*) FROM cell WHERE run_id = :r AND (inputs_json <> '' OR messages_json <> ''"
        " OR reference IS NOT NULL)",
        r=run_id,
    )
    assert own == 0  # the cells carry no copy
    runs.run_sync(workspace, run_id)
    trace = cell_trace(
        workspace, _count(workspace, "SELECT MIN(id) FROM cell WHERE run_id = :r", r=run_id)
    )
    assert trace.messages[-1]["role"] == "user" and trace.inputs and trace.reference
    # The stored raw response holds no value every chat completion has; the trace shows them.
    stored = _count(
        workspace,
        "SELECT COUNT(*) FROM cell WHERE run_id = :r AND raw_response_json LIKE '%chat.completion%'",
        r=run_id,
    )
    assert stored == 0
    raw = trace.raw_response
    assert raw["object"] == "chat.completion" and raw["model"] == "sim-fast"
    choice = raw["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": trace.output}
    assert raw["usage"]["total_tokens"] == trace.prompt_tokens + trace.completion_tokens


def _by_key(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {(r["model"], r["row_id"], r["repeat"]): (r["inputs"], r["reference"]) for r in rows}


def test_every_reader_gives_the_same_payload_for_new_and_old_cells(
    workspace: Any, sim: Any
) -> None:
    new = runs.create_run(workspace, _plan(workspace))
    runs.run_sync(workspace, new)
    old = old_shape_copy(workspace, new)
    assert (
        _count(
            workspace, "SELECT COUNT(*) FROM cell WHERE run_id = :r AND messages_json = ''", r=old
        )
        == 0
    )
    # runs.results
    got_new, got_old = (_by_key(list(runs.iter_results(workspace, r))) for r in (new, old))
    assert got_new == got_old and len(got_new) == ROWS * REPEATS * len(MODELS)
    assert all(inputs and reference for inputs, reference in got_new.values())
    # the trace view and the scoring runner's cells
    ids = {r: [c.id for c, _ in load_cells(workspace, r, None)] for r in (new, old)}
    for a, b in zip(ids[new], ids[old], strict=True):
        ta, tb = cell_trace(workspace, a), cell_trace(workspace, b)
        assert (ta.messages, ta.inputs, ta.reference) == (tb.messages, tb.inputs, tb.reference)
        assert ta.raw_response == tb.raw_response
    scored = {
        r: [
            (c.inputs_json, c.reference, c.messages_json) for c, _ in load_cells(workspace, r, None)
        ]
        for r in (new, old)
    }
    assert scored[new] == scored[old] and all(m.startswith("[") for _, _, m in scored[new])
    # Compare: the rows' inputs and reference, and the text search over them
    pages = {r: compare.grid_page(workspace, [r], 0, 20) for r in (new, old)}
    assert [(row.inputs, row.reference) for row in pages[new].rows] == [
        (row.inputs, row.reference) for row in pages[old].rows
    ]
    wanted = pages[new].rows[1]
    for r in (new, old):  # the reference's own text: found in the reference, not the output
        found = compare.grid_page(
            workspace, [r], 0, 20, filters=GridFilters(search=wanted.reference)
        )
        assert [row.row_id for row in found.rows] == [wanted.row_id]
    # a rating session's item and a blind pair
    for r in (new, old):
        sess = open_session(workspace, r, scheme="quality")
        first = ids[r][0]
        item = session_item(workspace, int(sess.id or 0), "ann", first)
        assert (item.inputs, item.reference) == (
            pages[new].rows[0].inputs,
            pages[new].rows[0].reference,
        )
        pair_session = open_session(workspace, r, kind="pairwise")
        pair = next_pair(workspace, int(pair_session.id or 0), "ann")
        assert pair is not None and pair.inputs and pair.reference
    # fine-tuning examples (messages) from rated cells
    examples = {}
    for r in (new, old):
        for cell_id in ids[r]:
            ratings.rate_cell(workspace, cell_id, "quality", 5, "ann")
        got = Collected()
        sft_from_runs(workspace, [r], 0.5, "quality", got)
        examples[r] = got.examples
    assert examples[new] == examples[old] and len(examples[new]) == len(ids[new])
    assert ft  # the export package loads with the payload reader


def test_claims_and_resumes_read_the_messages_of_both_kinds(workspace: Any, sim: Any) -> None:
    new = runs.create_run(workspace, _plan(workspace))
    old = old_shape_copy(workspace, new)  # pending cells, with their own messages
    sent: dict[int, list[tuple[int, int, str]]] = {}
    for r in (new, old):
        execution, _ = claims.begin_execution(workspace, r)
        owner = claims.new_owner()
        with db.session(workspace) as s:
            variants = list(
                s.connection()
                .execute(text("SELECT id FROM variant WHERE run_id = :r ORDER BY id"), {"r": r})
                .scalars()
            )
        got = claims.claim_cells(workspace, r, owner, execution, variants, claims.START, 1000)
        position = {v: i for i, v in enumerate(variants)}
        sent[r] = sorted((c.position[0], position[c.variant_id], c.messages_json) for c in got)
        _, todo, _ = load_todo(workspace, r)
        assert sorted(t.messages_json for t in todo) == sorted(m for *_, m in sent[r])
    assert sent[new] == sent[old] and len(sent[new]) == ROWS * REPEATS * len(MODELS)
    assert all(json.loads(m)[-1]["role"] == "user" for *_, m in sent[new])


def test_an_old_database_keeps_every_cell_readable(workspace: Any) -> None:
    # A database made at the migration before this one, with a run in it.
    workspace.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(workspace.database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP)"))
        for name, step in MIGRATIONS:
            if name == "024_payloads":
                continue
            step(conn)
            conn.execute(text("INSERT INTO _migrations (name) VALUES (:n)"), {"n": name})
        conn.execute(
            text(
                "INSERT INTO run (id, name, created_at, status, slice_json, repeats, concurrency,"
                " use_cache, total_cells, cancel_requested, kind) VALUES (1, 'old', '2026-01-01',"
                " 'completed', '{}', 1, 1, 1, 1, 0, 'run')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO variant (id, run_id, position, prompt_name, model, parameters_json)"
                " VALUES (1, 1, 0, 'summarize', 'sim-fast', '{}')"
            )
        )
        raw = {"id": "x1", "choices": [{"message": {"content": None, "role": "assistant"}}],
               "promptyard_stored": ["content"]}  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO cell (id, run_id, variant_id, row_id, row_index, repeat, inputs_json,"
                " reference, messages_json, status, output, raw_response_json, cached, attempts)"
                " VALUES (1, 1, 1, 'r1', 0, 0, :inputs, 'the reference', :messages, 'ok',"
                " 'the answer', :raw, 0, 1)"
            ),
            {
                "inputs": json.dumps({"text": "an old ticket"}),
                "messages": json.dumps([{"role": "user", "content": "Summarize: an old ticket"}]),
                "raw": json.dumps(raw),
            },
        )
    engine.dispose()
    db.dispose_engines()
    trace = cell_trace(workspace, 1)  # opening the database applies m024
    assert "024_payloads" in db.applied_migrations(db.get_engine(workspace))
    assert trace.inputs == {"text": "an old ticket"} and trace.reference == "the reference"
    assert trace.messages == [{"role": "user", "content": "Summarize: an old ticket"}]
    assert trace.raw_response["choices"][0]["message"]["content"] == "the answer"
    (result,) = list(runs.iter_results(workspace, 1))
    assert result["inputs"] == {"text": "an old ticket"} and result["reference"] == "the reference"
    indexes = {ix["name"] for ix in inspect(db.get_engine(workspace)).get_indexes("cell")}
    assert {"ix_cell_run_id", "ix_cell_variant_id", "ix_cell_status"}.isdisjoint(indexes)


@pytest.mark.postgres
def test_the_readers_and_the_claim_path_agree_on_postgres(
    workspace: Any, sim: Any, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", postgres_url)
    assert workspace.database_url == postgres_url
    test_a_two_model_repeated_run_stores_each_row_and_prompt_once(workspace, sim)
    test_every_reader_gives_the_same_payload_for_new_and_old_cells(workspace, sim)
    test_claims_and_resumes_read_the_messages_of_both_kinds(workspace, sim)


def test_seeded_runs_of_either_shape_read_alike(workspace: Any) -> None:
    shared = seed_run(workspace, rows=6, shared=True, name="new shape")
    own = seed_run(workspace, rows=6, name="old shape")
    assert _count(workspace, "SELECT COUNT(*) FROM run_row WHERE run_id = :r", r=shared.run_id) == 6
    pages = [compare.grid_page(workspace, [r.run_id], 0, 10) for r in (shared, own)]
    rows = [[(row.row_id, row.inputs, row.reference) for row in p.rows] for p in pages]
    assert rows[0] == rows[1] and all(inputs and ref for _, inputs, ref in rows[0])
    for r in (shared, own):
        found = compare.grid_page(
            workspace, [r.run_id], 0, 10, filters=GridFilters(search="ORDER #3 ")
        )
        assert [row.row_id for row in found.rows] == ["r00003"]


def test_pages_of_cells_close_together_or_scattered_get_their_own_payloads(
    workspace: Any, sim: Any
) -> None:
    """`fill_payloads` reads rows close together as a range and scattered ones by key:
    either way each cell gets what the per-cell SQL reads for it."""
    from sqlmodel import select

    from promptyard.storage.payloads import fill_payloads, payload_sql
    from promptyard.storage.tables import Cell

    plans = [
        runs.plan_run(workspace, [("summarize", None)], MODELS, ("summaries", None), repeats=2),
        _plan(workspace),
    ]
    run_ids = [runs.create_run(workspace, plan) for plan in plans]
    sql = payload_sql("c")
    with db.session(workspace) as s:
        expected = {
            r[0]: (r[1], r[2], r[3])
            for r in s.connection().execute(
                text(
                    f"SELECT c.id, {sql.inputs}, {sql.reference}, {sql.messages} FROM cell c"
                    " WHERE c.run_id IN (:a, :b)"
                ),
                {"a": run_ids[0], "b": run_ids[1]},
            )
        }
        ids = sorted(expected)
    assert len({expected[i][0] for i in ids}) > 8  # rows enough for a range read
    for picked in (ids, ids[::3], ids[:5] + ids[-40:], ids[::17]):
        with db.session(workspace) as s:
            cells = list(s.execute(select(Cell).where(Cell.id.in_(picked))).scalars())  # type: ignore[attr-defined]
            fill_payloads(s, cells)
            got = {c.id: (c.inputs_json, c.reference, c.messages_json) for c in cells}
        assert got == {i: expected[i] for i in picked}
