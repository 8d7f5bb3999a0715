"""`promptyard robustness`: perturbed copies of a dataset's rows, a run, a consistency table.

Exit codes: 0 every figure at or above --min-consistency (or no threshold), 1 a figure
below it or bad input (one line on stderr), 130 an interrupt.
"""

from __future__ import annotations

from typing import Any

import typer

from promptyard.cli._common import emit_json, fail, is_tty, split_ref, workspace

EXIT_BELOW = 1


def _cell(figure: Any) -> str:
    if figure is None:
        return "—"
    if figure.consistency is None:
        return f"— ({figure.errors} err)" if figure.errors else "—"
    errors = f", {figure.errors} err" if figure.errors else ""
    return f"{figure.consistency:.0%} ({figure.consistent}/{figure.pairs}{errors})"


def consistency_table(report: Any) -> str:
    """The report as a plain-text table: a row per kind, a column per variant."""
    labels = report.labels()
    rows = [(kind, [_cell(f) for f in figures]) for kind, figures in report.matrix()]
    widths = [max([len("kind")] + [len(k) for k, _ in rows])]
    for i, label in enumerate(labels):
        widths.append(max([len(label)] + [len(r[1][i]) for r in rows]))
    lines = ["  ".join(t.ljust(w) for t, w in zip(["kind", *labels], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for kind, cells in rows:
        lines.append("  ".join(t.ljust(w) for t, w in zip([kind, *cells], widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def _print_report(report: Any, min_consistency: float | None) -> None:
    typer.echo(
        f"run {report.run_id}: consistency by {report.measure or '(not scored)'}, seed {report.seed}"
    )
    typer.echo(consistency_table(report))
    skipped = {k: n for k, n in report.skipped.items() if n}
    if skipped:
        typer.echo(
            "skipped (the perturbation could not apply): "
            + ", ".join(f"{k} {n} row(s)" for k, n in skipped.items())
        )
    if min_consistency is not None:
        below = report.below(min_consistency)
        for f in below:
            typer.echo(
                f"below {min_consistency:.0%}: {f.kind} on {f.prompt_name} {f.version_label} · "
                f"{f.model}: {f.consistency:.0%}"
            )
        typer.echo("FAIL" if below else "PASS")


def robustness(
    prompt: list[str] = typer.Option(None, "--prompt", "-p", help="NAME[@REF]; repeat for more"),
    model: list[str] = typer.Option(None, "--model", "-m", help="A model name; repeat for more"),
    dataset: str = typer.Option(None, "--dataset", "-d", help="NAME[@REF]"),
    slice_: str = typer.Option(None, "--slice", help="head:N, random:N[:SEED] or filter:EXPR"),
    columns: str = typer.Option(None, "--columns", help="Text columns to perturb, comma-separated"),
    kinds: str = typer.Option(
        None,
        "--kinds",
        help="case,punctuation,whitespace,typos,word-order,synonyms,paraphrase (default: all)",
    ),
    seed: int = typer.Option(0, "--seed", help="The same seed gives the same variants"),
    typo_rate: float = typer.Option(0.05, "--typo-rate", help="Share of letters mistyped"),
    paraphrase_model: str = typer.Option(None, "--paraphrase-model", help="Model that paraphrases"),
    measure: str = typer.Option("exact", "--measure", help="exact, assertion, similarity or judge"),
    threshold: float = typer.Option(None, "--threshold", help="similarity: the least ratio (0.8)"),
    assertion: str = typer.Option(None, "--assert", help="assertion: TYPE[:VALUE], e.g. is-json"),
    judge_model: str = typer.Option(None, "--judge-model", help="judge: the model asked"),
    min_consistency: float = typer.Option(
        None, "--min-consistency", help="Exit 1 when a figure is below this (0..1)"
    ),
    run_id: int = typer.Option(None, "--run", help="Score and report an existing robustness run"),
    concurrency: int = typer.Option(8, "--concurrency"),
    max_cost: float = typer.Option(None, "--max-cost", help="Stop the run at this many USD"),
    no_cache: bool = typer.Option(False, "--no-cache"),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON on stdout"),
) -> None:
    """Send each row and its perturbed copies to every prompt version x model; report how
    often a variant's answer stays equivalent to the original's (CheckList invariance)."""
    from promptyard import robustness as rb
    from promptyard import runs

    if min_consistency is not None and not 0.0 <= min_consistency <= 1.0:
        fail(f"--min-consistency must be between 0 and 1, not {min_consistency:g}")
    ws = workspace()
    spec = rb.measure_spec(
        measure, threshold=threshold, assertion=assertion, judge_model=judge_model
    )
    if run_id is None:
        if not prompt or not model or not dataset:
            fail("give --prompt, --model and --dataset (or --run ID to report a stored run)")
        try:
            rplan = rb.plan_robustness(
                ws,
                [split_ref(p) for p in prompt],
                list(model),
                split_ref(dataset),
                slice=slice_,
                columns=[c.strip() for c in columns.split(",") if c.strip()] if columns else None,
                kinds=kinds,
                seed=seed,
                typo_rate=typo_rate,
                paraphrase_model=paraphrase_model,
            )
            run_id = rb.create_robustness_run(
                ws, rplan, concurrency=concurrency, max_cost=max_cost, use_cache=not no_cache
            )
        except runs.PlanError as exc:
            for problem in exc.problems:
                typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(1) from None
        if not as_json and is_tty():
            typer.echo(
                f"run {run_id}: {rplan.originals} rows, {len(rplan.perturbations.rows)} variants, "
                f"{rplan.plan.calls} calls",
                err=True,
            )
        try:
            runs.run_sync(ws, run_id)
        except KeyboardInterrupt:
            fail(
                f"run {run_id} interrupted; resume it with: promptyard run --resume {run_id}, "
                f"then report it with: promptyard robustness --run {run_id}",
                130,
            )
    report = rb.score_robustness(ws, run_id, spec)
    if as_json:
        emit_json(report.to_dict(min_consistency))
    else:
        _print_report(report, min_consistency)
    if min_consistency is not None and report.below(min_consistency):
        raise typer.Exit(EXIT_BELOW)
    if min_consistency is not None and not any(f.pairs for f in report.figures):
        # A gate that compared nothing (every call failed) must not pass.
        fail(f"run {run_id}: no pair could be compared, so no figure can clear the threshold")


def register(app: typer.Typer) -> None:
    app.command("robustness")(robustness)
