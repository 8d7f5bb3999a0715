"""What the dashboard looks at: the filters, the choices they offer, and the SQL they become.

Every aggregate starts from the `fv` common table expression (the variants the filters
keep) and runs through `_query`, which hands back a DataFrame of plain floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import DateTime, Engine, bindparam, text
from sqlalchemy.sql.elements import TextClause

from promptyard.storage import db
from promptyard.workspace import Workspace

KEY = ["prompt_name", "prompt_version", "model"]
DEFAULT_KINDS = ("run", "eval")
ALL_KINDS = ("run", "eval", "playground", "judge", "robustness")


@dataclass(frozen=True)
class Filters:
    """What the dashboard looks at. Empty means "everything"."""

    prompt: str | None = None
    dataset: str | None = None
    models: tuple[str, ...] = ()
    run_ids: tuple[int, ...] = ()
    since: date | datetime | None = None  # runs created on or after (a date includes the day)
    until: date | datetime | None = None  # runs created on or before
    scheme: str | None = None  # rating scheme; None pools every scheme with a 0..1 score
    kinds: tuple[str, ...] = field(default=DEFAULT_KINDS)  # run kinds; playground/judge left out


@dataclass(frozen=True)
class FilterOptions:
    """The values the dashboard's filter widgets offer."""

    prompts: list[str]
    datasets: list[str]
    models: list[str]
    schemes: list[str]
    runs: pd.DataFrame  # id, name, created_at, dataset_name, status, kind, n_cells (planned)
    first_date: date | None
    last_date: date | None

    @property
    def empty(self) -> bool:
        return self.runs.empty


def variant_label(prompt_name: str, prompt_version: int, model: str) -> str:
    """How a variant key reads on the dashboard: "summarize v2 · sim-fast" (v0 is "draft")."""
    version = f"v{int(prompt_version)}" if prompt_version else "draft"
    return f"{prompt_name} {version} · {model}"


def filter_options(ws: Workspace | str, kinds: tuple[str, ...] = DEFAULT_KINDS) -> FilterOptions:
    """The prompts, datasets, models, rating schemes and runs the filters can choose from."""
    engine = _engine(ws)
    params = {"kinds": list(kinds)}
    binds: list[Any] = [bindparam("kinds", expanding=True)]
    runs = _query(
        engine,
        """SELECT r.id, r.name, r.created_at, r.dataset_name, r.status, r.kind,
               r.total_cells AS n_cells
           FROM run r WHERE r.kind IN :kinds ORDER BY r.id DESC""",
        params,
        binds,
    )
    variants = _query(
        engine,
        """SELECT DISTINCT v.prompt_name, v.model FROM variant v JOIN run r ON r.id = v.run_id
           WHERE r.kind IN :kinds""",
        params,
        binds,
    )
    schemes = _query(
        engine,
        "SELECT DISTINCT scheme FROM rating WHERE score IS NOT NULL ORDER BY scheme",
        {},
        [],
    )
    dates = pd.to_datetime(runs["created_at"]) if not runs.empty else pd.Series(dtype=object)
    return FilterOptions(
        prompts=sorted(variants["prompt_name"].unique().tolist()) if not variants.empty else [],
        datasets=sorted(runs["dataset_name"].dropna().unique().tolist()) if not runs.empty else [],
        models=sorted(variants["model"].unique().tolist()) if not variants.empty else [],
        schemes=schemes["scheme"].tolist(),
        runs=runs,
        first_date=dates.min().date() if len(dates) else None,
        last_date=dates.max().date() if len(dates) else None,
    )


def filtered_variants(ws: Workspace | str, filters: Filters | None = None) -> pd.DataFrame:
    """The variants the filters select: variant_id, run_id, prompt_name, prompt_version, model."""
    cte, params, binds = _fv_cte(filters or Filters())
    sql = f"WITH {cte} SELECT * FROM fv ORDER BY variant_id"
    return _query(_engine(ws), sql, params, binds)


# --- SQL building ---------------------------------------------------------------------


def _naive_utc(value: date | datetime, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.combine(value, time.min, tzinfo=UTC)
        if end_of_day:
            moment += timedelta(days=1)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _variant_filter(filters: Filters) -> tuple[str, dict[str, Any], list[Any]]:
    """The WHERE clause over `variant v JOIN run r`, its params and expanding bindparams."""
    where = ["r.kind IN :kinds"]
    params: dict[str, Any] = {"kinds": list(filters.kinds) or list(DEFAULT_KINDS)}
    expanding: list[Any] = [bindparam("kinds", expanding=True)]
    if filters.prompt:
        where.append("v.prompt_name = :prompt")
        params["prompt"] = filters.prompt
    if filters.dataset:
        where.append("r.dataset_name = :dataset")
        params["dataset"] = filters.dataset
    if filters.models:
        where.append("v.model IN :models")
        params["models"] = list(filters.models)
        expanding.append(bindparam("models", expanding=True))
    if filters.run_ids:
        where.append("v.run_id IN :run_ids")
        params["run_ids"] = [int(r) for r in filters.run_ids]
        expanding.append(bindparam("run_ids", expanding=True))
    if filters.since is not None:
        where.append("r.created_at >= :since")
        params["since"] = _naive_utc(filters.since, end_of_day=False)
        expanding.append(bindparam("since", type_=DateTime()))
    if filters.until is not None:
        # A date means the whole day; a datetime is taken as given.
        op = "<" if not isinstance(filters.until, datetime) else "<="
        where.append(f"r.created_at {op} :until")
        params["until"] = _naive_utc(filters.until, end_of_day=True)
        expanding.append(bindparam("until", type_=DateTime()))
    return " AND ".join(where), params, expanding


def _fv_cte(filters: Filters) -> tuple[str, dict[str, Any], list[Any]]:
    where, params, binds = _variant_filter(filters)
    cte = f"""fv AS (
        SELECT v.id AS variant_id, v.run_id AS run_id, v.prompt_name AS prompt_name,
               COALESCE(v.prompt_version, 0) AS prompt_version, v.model AS model
        FROM variant v JOIN run r ON r.id = v.run_id
        WHERE {where}
    )"""
    return cte, params, binds


def _query(engine: Engine, sql: str, params: dict[str, Any], binds: list[Any]) -> pd.DataFrame:
    stmt: TextClause = text(sql)
    names = {b.key for b in binds}
    stmt = stmt.bindparams(*[b for b in binds if b.key in params and b.key in names])
    with engine.connect() as conn:
        result = conn.execute(stmt, params)
        df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    # PostgreSQL returns AVG and friends as Decimal; the dashboard works in floats.
    for col in df.columns:
        if df[col].dtype == object and df[col].map(lambda x: isinstance(x, Decimal)).any():
            df[col] = df[col].map(lambda x: float(x) if isinstance(x, Decimal) else x)
    return df


def _engine(ws: Workspace | str) -> Engine:
    return db.get_engine(ws)
