"""`promptyard run`, `promptyard runs list` and `promptyard results`."""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

import typer

from promptyard.cli._common import emit_json, fail, is_tty, split_ref, workspace
from promptyard.csv_safety import write_csv
from promptyard.errors import PromptyardError

# Exit codes of `promptyard run` (docs/runs.md); 1 is a refused plan, 130 an interrupt.
EXIT_COMPLETED = 0  # every cell ok
EXIT_COMPLETED_WITH_ERRORS = 3  # every cell sent, some ended with an error
EXIT_FAILED = 4  # no cell ok, or the engine stopped


def _exit_code(status: str) -> int:
    from promptyard.runs import RunStatus

    if status == RunStatus.COMPLETED_WITH_ERRORS:
        return EXIT_COMPLETED_WITH_ERRORS
    if status in (RunStatus.FAILED, "interrupted"):
        return EXIT_FAILED
    return EXIT_COMPLETED


def _summary_dict(summary: Any) -> dict[str, Any]:
    unknown_only = bool(summary.unknown_cost_cells) and not summary.cost_usd
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "cells": summary.cells,
        "ok": summary.ok,
        "errors": summary.errors,
        "pending": summary.pending,
        "cached": summary.cached,
        "cost_usd": None if unknown_only else round(summary.cost_usd, 8),
        "unknown_cost_cells": summary.unknown_cost_cells,
        "errors_by_kind": summary.errors_by_kind,
        "wall_s": round(summary.wall_s or 0.0, 3),
        "message": summary.message,
        "variants": summary.variants,
    }


def _workers(ws: Any, requested: int | None, as_json: bool, todo: int | tuple[int, int]) -> int:
    """The number of worker processes for a run, with a note when the request was cut.

    `todo`: the run's id (its unfinished cells and concurrency are read back), or
    (cells, concurrency) of a plan not yet stored.
    """
    from promptyard import runs

    if isinstance(todo, int):
        summary = runs.run_summary(ws, todo)
        todo = (summary.cells - summary.ok, summary.concurrency)
    n, note = runs.sensible_workers(requested, *todo)
    if note and not as_json:
        typer.echo(f"note: {note}", err=True)
    return n


def _execute(ws: Any, run_id: int, as_json: bool, head: Any = None, **limits: Any) -> None:
    from promptyard import runs

    bar: Any = None
    if is_tty() and not as_json:
        total = runs.run_summary(ws, run_id).cells
        bar = typer.progressbar(length=total, label=f"run {run_id}", file=sys.stderr, show_pos=True)
        bar.__enter__()
    last = 0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if bar is not None and done > last:
            bar.update(done - last)
            last = done

    try:
        summary = runs.run_sync(ws, run_id, on_progress=progress, head=head, **limits)
    except runs.PlanError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        fail(f"run {run_id} interrupted; resume it with: promptyard run --resume {run_id}", 130)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if as_json:
        emit_json(_summary_dict(summary))
    else:
        line = (
            f"run {summary.run_id} {summary.status}: {summary.ok}/{summary.cells} ok, "
            f"{summary.errors} errors, {summary.cached} cached, cost {summary.cost_label}, "
            f"{summary.wall_s or 0:.1f} s"
        )
        typer.echo(line)
        if summary.message:
            typer.echo(summary.message)
    code = _exit_code(summary.status)
    if code:
        raise typer.Exit(code)


MAPPING_HINT = (
    "hint: fill a variable from another column with --map VAR=COLUMN, give every row one"
    " value with --set VAR=VALUE, or use the prompt's example with --samples"
)


def _queue(ws: Any, run_id: int, as_json: bool) -> None:
    """Store the run for workers: its id on stdout, how to start them on stderr."""
    from promptyard import runs

    try:
        runs.queue_run(ws, run_id)
    except PromptyardError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"run_id": run_id, "status": "pending", "queued": True})
        return
    typer.echo(str(run_id))
    typer.echo(f"run {run_id} queued; start workers with: promptyard worker", err=True)


def register(app: typer.Typer) -> None:
    """Add `run`, `runs list` and `results` to the `promptyard` app."""

    @app.command("run")
    def run(
        prompt: list[str] = typer.Option(
            [], "--prompt", "-p", help="NAME[@REF] (vN, sha, label); repeat for several versions"
        ),
        model: list[str] = typer.Option(
            [], "--model", "-m", help="models.yaml name, simulator model or litellm string; repeats"
        ),
        dataset: str | None = typer.Option(None, "--dataset", "-d", help="NAME[@REF]"),
        limit: int | None = typer.Option(None, "--limit", min=1, help="use the first N rows"),
        repeats: int = typer.Option(1, "--repeats", min=1, help="calls per row and variant"),
        concurrency: int = typer.Option(8, "--concurrency", min=1, help="calls at a time"),
        max_cost: float | None = typer.Option(None, "--max-cost", help="budget cap in USD"),
        no_cache: bool = typer.Option(
            False, "--no-cache", help="call the model even for cached cells"
        ),
        resume: int | None = typer.Option(None, "--resume", help="finish run RUN_ID"),
        timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="seconds per attempt"),
        cell_timeout: float = typer.Option(
            180.0, "--cell-timeout", min=0.1, help="seconds per cell, all attempts together"
        ),
        max_output: int = typer.Option(
            1_000_000, "--max-output", min=1, help="bytes of output kept per cell; longer is cut"
        ),
        workers: int | None = typer.Option(
            None,
            "--workers",
            min=1,
            help="worker processes (default: one per core and 5,000 cells)",
        ),
        queue: bool = typer.Option(
            False, "--queue", help="store the run for `promptyard worker`; print its id"
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        guardrails: str | None = typer.Option(
            None,
            "--guardrails",
            metavar="POLICY",
            help="send every call through this "
            "guardrails.yaml policy (mask, check, repair, retry, block)",
        ),  # fmt: skip
        map_columns: list[str] = typer.Option(
            [], "--map", help="VAR=COLUMN: fill a prompt variable from another column; repeats"
        ),
        set_values: list[str] = typer.Option(
            [], "--set", help="VAR=VALUE: one value of a variable for every row; repeats"
        ),
        samples: bool = typer.Option(
            False, "--samples", help="fill still-missing variables with the prompt's example"
        ),
    ) -> None:
        """Run prompt versions x models on a dataset, or resume a run."""
        from promptyard import runs

        ws = workspace()
        if resume is not None:
            if prompt or model or dataset or guardrails:
                fail(
                    "--resume takes no --prompt, --model, --dataset or --guardrails: "
                    "the run has its plan"
                )
            runs.run_summary(ws, resume)  # a clear error for an unknown run
            if queue:
                _queue(ws, resume, as_json)
                return
            _execute(
                ws,
                resume,
                as_json,
                workers=_workers(ws, workers, as_json, resume),
                timeout_s=timeout,
                total_timeout_s=cell_timeout,
                max_output_bytes=max_output,
            )
            return
        if not prompt:
            fail("give at least one --prompt NAME[@REF]")
        if not dataset:
            fail("give --dataset NAME[@REF]")
        if not model:
            from promptyard.models import default_models

            model = default_models(ws)[:1]
        try:
            mapping = runs.VariableMapping(
                runs.parse_pairs(map_columns, "--map"),
                runs.parse_pairs(set_values, "--set"),
                samples,
            )
            plan = runs.plan_run(
                ws,
                [split_ref(p) for p in prompt],
                model,
                split_ref(dataset),
                slice=f"head:{limit}" if limit else None,
                repeats=repeats,
                mapping=mapping,
            )
        except runs.MappingError as exc:
            fail(str(exc))
        except runs.PlanError as exc:
            for problem in exc.problems:
                typer.echo(f"error: {problem}", err=True)
            if isinstance(exc, runs.MissingColumnsError):
                typer.echo(MAPPING_HINT, err=True)
            raise typer.Exit(1) from None
        if guardrails:
            from promptyard.guardrails import load_policies

            policies = load_policies(ws)  # an unknown policy is refused before the run exists
            policies.get(guardrails)
            if policies.warning:
                typer.echo(f"warning: {policies.warning}", err=True)
            plan.guardrails = guardrails
        if not mapping.empty:
            typer.echo(f"variables: {mapping.describe()}", err=True)
        # The first calls leave now when nothing stored can change them (runs.head_start),
        # and the other workers load while the run is stored.
        head, standby, n_workers = None, [], 1
        if not queue:
            n_workers = _workers(ws, workers, as_json, (plan.calls, concurrency))
            standby = runs.start_standby(ws, n_workers - 1) if n_workers > 1 else []
            head = runs.start_head(
                ws,
                plan,
                concurrency=concurrency,
                use_cache=not no_cache,
                max_cost=max_cost,
                timeout_s=min(timeout, cell_timeout),
            )
        try:
            try:
                run_id = runs.create_run(
                    ws, plan, concurrency=concurrency, max_cost=max_cost, use_cache=not no_cache
                )
            except runs.PlanError as exc:  # a missing key, a budget on an unknown price
                for problem in exc.problems:
                    typer.echo(f"error: {problem}", err=True)
                raise typer.Exit(1) from None
            if queue:
                _queue(ws, run_id, as_json)
                return
            if is_tty() and not as_json:
                est = runs.estimate(plan, concurrency, ws=ws)
                cost = "unknown" if est.cost_usd is None else "~" + runs.format_usd(est.cost_usd)
                typer.echo(
                    f"run {run_id}: {est.calls} calls, {est.prompt_tokens} prompt tokens, "
                    f"cost {cost}, ~{est.seconds:.0f} s ({est.source_note})",
                    err=True,
                )
            _execute(
                ws,
                run_id,
                as_json,
                head,
                workers=n_workers,
                standby=standby,
                timeout_s=timeout,
                total_timeout_s=cell_timeout,
                max_output_bytes=max_output,
            )
        finally:
            runs.release_standby(standby)  # those that got no run (it failed to start)

    runs_app = typer.Typer(help="Past and current runs.", no_args_is_help=True)

    @runs_app.command("list")
    def runs_list(
        as_json: bool = typer.Option(False, "--json", help="print a JSON list"),
        kind: str = typer.Option("run", "--kind", help="run, playground, or all"),
    ) -> None:
        """Runs, newest first, with status, size, cost and wall time."""
        from promptyard import runs

        found = runs.list_runs(workspace(), kind=None if kind == "all" else kind)
        if as_json:
            emit_json([r.to_dict() for r in found])
            return
        if not found:
            typer.echo("no runs yet")
            return
        for r in found:
            typer.echo(
                f"{r.run_id:>5}  {r.created_at:%Y-%m-%d %H:%M}  {r.status:<20} "
                f"{r.ok + r.errors:>6}/{r.cells:<6} {r.cost_label:<10} "
                f"{(r.wall_s or 0):>7.1f}s  {', '.join(r.variants)[:60]}"
            )

    app.add_typer(runs_app, name="runs")

    @app.command("results")
    def results(
        run_id: int = typer.Argument(..., help="the run's id"),
        fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv"),
        raw: bool = typer.Option(
            False, "--raw", help="Write CSV cells as stored (no ' before =, +, -, @, tab, CR)"
        ),
    ) -> None:
        """Every cell of a run on stdout, as JSON lines or CSV.

        CSV cells a spreadsheet would run as formulas get a ' in front, unless --raw.
        """
        from promptyard import runs

        if fmt not in ("jsonl", "csv"):
            fail(f"--format must be jsonl or csv, not {fmt!r}")
        ws = workspace()
        try:
            rows = runs.iter_results(ws, run_id)
            first = next(rows, None)
        except PromptyardError as exc:
            fail(str(exc))
        if first is None:
            return
        out = sys.stdout
        if fmt == "jsonl":
            out.write(json.dumps(first, ensure_ascii=False, default=str) + "\n")
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            return
        write_csv(
            out,
            list(runs.RESULT_FIELDS),
            (
                {
                    **row,
                    "inputs": json.dumps(row["inputs"], ensure_ascii=False),
                    "tool_calls": (
                        json.dumps(row["tool_calls"], ensure_ascii=False)
                        if row["tool_calls"] is not None
                        else None
                    ),
                }
                for row in itertools.chain([first], rows)
            ),
            raw=raw,
        )
