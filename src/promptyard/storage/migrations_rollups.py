"""Migration m025: per-hour rollups of LLM spans for the Monitoring page, kept by triggers.

`span_rollup` holds, per UTC hour and (prompt, version, label, requested model, reported
model, service), the calls, errors, known token and cost sums and the first start seen;
`span_rollup_user` the same sums per hour and user. Triggers on `span` add a row's figures
when it is inserted, and move them when an update or delete changes it, inside the writer's
own transaction: a late or out-of-order span lands in the hour it started in, whoever
wrote it (the collector, an import, a test), and a rollup is never ahead of or behind the
spans it sums. `changes` counts every change to a row (it only grows): the percentile cache
(`span_percentile`, exact values computed from the spans) is valid while the sum of
`changes` over its hours is the one it was computed at.

NULL keys are stored as '' (and prompt_version -1) so each hour-and-key is one row.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

HOUR_NS = 3_600_000_000_000

_KEYS = (
    "prompt_name",
    "prompt_version",
    "prompt_label",
    "request_model",
    "response_model",
    "service_name",
)
_SUMS = (
    "calls",
    "errors",
    "input_tokens",
    "input_known",
    "output_tokens",
    "output_known",
    "cost_usd",
    "cost_known",
)


def _key(row: str, column: str) -> str:
    none = "-1" if column == "prompt_version" else "''"
    return f"COALESCE({row}.{column}, {none})"


def _figures(row: str, sign: str) -> list[str]:
    """The SUMS of one span `row` (NEW, OLD, or s), times `sign`."""
    return [
        f"{sign}",
        f"{sign} * (CASE WHEN {row}.status = 'error' THEN 1 ELSE 0 END)",
        f"{sign} * COALESCE({row}.input_tokens, 0)",
        f"{sign} * (CASE WHEN {row}.input_tokens IS NULL THEN 0 ELSE 1 END)",
        f"{sign} * COALESCE({row}.output_tokens, 0)",
        f"{sign} * (CASE WHEN {row}.output_tokens IS NULL THEN 0 ELSE 1 END)",
        f"{sign} * COALESCE({row}.cost_usd, 0)",
        f"{sign} * (CASE WHEN {row}.cost_usd IS NULL THEN 0 ELSE 1 END)",
    ]


def _upserts(row: str, sign: str) -> list[str]:
    """The two upserts that add (sign 1) or take away (sign -1) span `row`'s figures."""
    hour = f"{row}.start_ns / {HOUR_NS}"
    sums = _figures(row, sign)
    added = ", ".join(f"{c} = span_rollup.{c} + excluded.{c}" for c in _SUMS)
    main = (
        f"INSERT INTO span_rollup (hour, {', '.join(_KEYS)}, {', '.join(_SUMS)}, first_ns, changes)"
        f" VALUES ({hour}, {', '.join(_key(row, k) for k in _KEYS)}, {', '.join(sums)},"
        f" {row}.start_ns, 1)"
        f" ON CONFLICT (hour, {', '.join(_KEYS)}) DO UPDATE SET {added},"
        " first_ns = CASE WHEN excluded.first_ns < span_rollup.first_ns"
        " THEN excluded.first_ns ELSE span_rollup.first_ns END,"
        " changes = span_rollup.changes + 1"
    )
    user_sums = [c for c in _SUMS if c != "errors"]
    user_values = [s for c, s in zip(_SUMS, sums, strict=True) if c != "errors"]
    user_added = ", ".join(f"{c} = span_rollup_user.{c} + excluded.{c}" for c in user_sums)
    user = (
        f"INSERT INTO span_rollup_user (hour, user_id, {', '.join(user_sums)})"
        f" VALUES ({hour}, COALESCE({row}.user_id, ''), {', '.join(user_values)})"
        f" ON CONFLICT (hour, user_id) DO UPDATE SET {user_added}"
    )
    return [main, user]


# Columns whose change moves a span's figures (ingest's children inherit prompt and user).
_WATCHED = (
    "start_ns", "is_llm", "status", *_KEYS, "user_id", "input_tokens", "output_tokens",
    "cost_usd",
)  # fmt: skip


def _sqlite_triggers(conn: Connection) -> None:
    add, take = _upserts("NEW", "1"), _upserts("OLD", "-1")
    conn.execute(
        text(
            "CREATE TRIGGER span_rollup_insert AFTER INSERT ON span WHEN NEW.is_llm BEGIN "
            + "; ".join(add)
            + "; END"
        )
    )
    conn.execute(
        text(
            "CREATE TRIGGER span_rollup_delete AFTER DELETE ON span WHEN OLD.is_llm BEGIN "
            + "; ".join(take)
            + "; END"
        )
    )
    # Two triggers for an update: the old figures out (when it was an LLM span), the new in.
    conn.execute(
        text(
            f"CREATE TRIGGER span_rollup_update_old AFTER UPDATE OF {', '.join(_WATCHED)}"
            " ON span WHEN OLD.is_llm BEGIN " + "; ".join(take) + "; END"
        )
    )
    conn.execute(
        text(
            f"CREATE TRIGGER span_rollup_update_new AFTER UPDATE OF {', '.join(_WATCHED)}"
            " ON span WHEN NEW.is_llm BEGIN " + "; ".join(add) + "; END"
        )
    )


def _postgres_triggers(conn: Connection) -> None:
    add, take = _upserts("NEW", "1"), _upserts("OLD", "-1")
    # One span writer at a time: rollup rows are locked in the order spans come, so two
    # collectors writing the same hours in other orders could deadlock; this lock (held to
    # the end of the writing transaction) orders them, as SQLite's single writer does.
    conn.execute(
        text(
            "CREATE FUNCTION span_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "  PERFORM pg_advisory_xact_lock(250025);\n"
            "  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.is_llm THEN\n"
            + "".join(f"    {s};\n" for s in take)
            + "  END IF;\n"
            "  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.is_llm THEN\n"
            + "".join(f"    {s};\n" for s in add)
            + "  END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
    )
    conn.execute(
        text(
            "CREATE TRIGGER span_rollup_change AFTER INSERT OR DELETE OR UPDATE OF "
            f"{', '.join(_WATCHED)} ON span FOR EACH ROW EXECUTE FUNCTION span_rollup_apply()"
        )
    )


def m025_span_rollups(conn: Connection) -> None:
    big = "BIGINT"
    sums = ", ".join(
        f"{c} {'DOUBLE PRECISION' if c == 'cost_usd' else big} NOT NULL" for c in _SUMS
    )
    keys = ", ".join(
        f"{k} {'INTEGER' if k == 'prompt_version' else 'TEXT'} NOT NULL" for k in _KEYS
    )
    conn.execute(
        text(
            f"CREATE TABLE span_rollup (hour {big} NOT NULL, {keys}, {sums},"
            f" first_ns {big} NOT NULL, changes {big} NOT NULL,"
            f" PRIMARY KEY (hour, {', '.join(_KEYS)}))"
        )
    )
    user_sums = ", ".join(
        f"{c} {'DOUBLE PRECISION' if c == 'cost_usd' else big} NOT NULL"
        for c in _SUMS
        if c != "errors"
    )
    conn.execute(
        text(
            f"CREATE TABLE span_rollup_user (hour {big} NOT NULL, user_id TEXT NOT NULL,"
            f" {user_sums}, PRIMARY KEY (hour, user_id))"
        )
    )
    # Exact percentiles of a bucket's spans, computed once and kept while `stamp` (the sum of
    # span_rollup.changes over the bucket's hours) is unchanged.
    conn.execute(
        text(
            f"CREATE TABLE span_percentile_stamp (lo_ns {big} NOT NULL, hi_ns {big} NOT NULL,"
            f" segment_kind TEXT NOT NULL, stamp {big} NOT NULL,"
            " PRIMARY KEY (lo_ns, hi_ns, segment_kind))"
        )
    )
    values = ", ".join(
        f"{m}_p{p} DOUBLE PRECISION" for m in ("latency", "ttft") for p in (50, 95, 99)
    )
    conn.execute(
        text(
            f"CREATE TABLE span_percentile (lo_ns {big} NOT NULL, hi_ns {big} NOT NULL,"
            f" segment_kind TEXT NOT NULL, segment TEXT NOT NULL, {values},"
            " PRIMARY KEY (lo_ns, hi_ns, segment_kind, segment))"
        )
    )
    # The spans stored before this migration, summed once.
    s_sums = _figures("s", "1")
    conn.execute(
        text(
            f"INSERT INTO span_rollup (hour, {', '.join(_KEYS)}, {', '.join(_SUMS)}, first_ns,"
            f" changes) SELECT s.start_ns / {HOUR_NS}, {', '.join(_key('s', k) for k in _KEYS)},"
            f" {', '.join(f'SUM({v})' for v in s_sums)}, MIN(s.start_ns), 1"
            f" FROM span s WHERE s.is_llm = :llm"
            f" GROUP BY 1, {', '.join(_key('s', k) for k in _KEYS)}"
        ),
        {"llm": True},
    )
    user_values = [v for c, v in zip(_SUMS, s_sums, strict=True) if c != "errors"]
    conn.execute(
        text(
            "INSERT INTO span_rollup_user (hour, user_id,"
            f" {', '.join(c for c in _SUMS if c != 'errors')})"
            f" SELECT s.start_ns / {HOUR_NS}, COALESCE(s.user_id, ''),"
            f" {', '.join(f'SUM({v})' for v in user_values)}"
            " FROM span s WHERE s.is_llm = :llm GROUP BY 1, 2"
        ),
        {"llm": True},
    )
    if conn.dialect.name == "postgresql":
        _postgres_triggers(conn)
    else:
        _sqlite_triggers(conn)
