"""`promptyard eval` (the CI gate), `score`, `calibrate`, `suites` and `evaluators`.

Exit codes of `promptyard eval`: 0 the suite passes and nothing regressed, 1 it fails or
regresses, 2 a usage or configuration error (unknown suite, bad assertion, unknown
baseline): the message names the suite file and line; also 2 when the working tree
changes what the gate trusts (models.yaml, custom evaluators, judge prompts, gate.yaml)
without `--trust-working-tree`, or a suite needs custom code without `--allow-code`.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from promptyard.cli._common import emit_json, fail, is_tty
from promptyard.errors import PromptyardError
from promptyard.workspace import Workspace, current_workspace


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `promptyard` app."""
    app.command("eval")(eval_cmd)
    app.command("score")(score_cmd)
    app.command("calibrate")(calibrate_cmd)
    app.command("suites")(suites_cmd)
    app.command("evaluators")(evaluators_cmd)


def _write(path: Path | None, text: str) -> None:
    if path is None:
        return
    if str(path) == "-":
        typer.echo(text, nl=False)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def eval_cmd(
    suite: str = typer.Argument(..., help="The suite: evals/SUITE.yaml"),
    baseline: str | None = typer.Option(
        None,
        "--baseline",
        "-b",
        help="Compare with this version: vN, a sha, a label or a git branch "
        "(default: the production label, else the last commit)",
    ),
    max_cost: float | None = typer.Option(
        None,
        "--max-cost",
        help="Stop the run past this many USD (default: the suite's max_cost_usd)",
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here"),
    markdown: Path | None = typer.Option(
        None, "--markdown", help="Write a Markdown summary here (for a PR comment)"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the result as one JSON object (see docs/ci.md)"
    ),
    trust_working_tree: bool = typer.Option(
        False,
        "--trust-working-tree",
        help="Take models.yaml, custom evaluators, judge prompts and gate.yaml from the "
        "working tree instead of the baseline revision",
    ),
    allow_code: bool = typer.Option(
        False, "--allow-code", help="Let the suite's custom Python evaluators run"
    ),
    trusted_ref: str | None = typer.Option(
        None,
        "--trusted-ref",
        help="The git ref whose models, evaluators and judge prompts are trusted "
        "(default: --baseline when it is a git ref, else HEAD)",
    ),
) -> None:
    """Run a suite on the working tree and on the baseline; exit 0 pass, 1 fail, 2 config error."""
    from promptyard import evals
    from promptyard.evals.gate import json_report

    if max_cost is not None and max_cost <= 0:
        fail("--max-cost must be more than 0", evals.EXIT_CONFIG)
    ws = current_workspace()
    _warn_if_trusting_a_pull_request(ws, baseline, trusted_ref, trust_working_tree)
    tty = is_tty()

    def progress(stage: str, done: int, total: int) -> None:
        if tty and (done == total or done % 10 == 0):
            typer.echo(f"\r{stage}: {done}/{total}", err=True, nl=done == total)

    try:
        result = evals.run_gate(
            ws,
            suite,
            baseline=baseline,
            max_cost_usd=max_cost,
            on_progress=progress,
            trust_working_tree=trust_working_tree,
            allow_code=allow_code,
            trusted_ref=trusted_ref,
        )
    except PromptyardError as exc:
        fail(str(exc), evals.EXIT_CONFIG)
    if result.custom_code:
        typer.echo(
            f"note: suite {suite} ran custom Python evaluators "
            f"({', '.join(result.custom_code)}) from {result.trust.get('source')}",
            err=True,
        )
    _write(junit, evals.junit_xml(result))
    _write(markdown, evals.markdown(result))
    if as_json:
        emit_json(json_report(result))
    else:
        typer.echo(evals.table(result))
    raise typer.Exit(result.exit_code)


def _warn_if_trusting_a_pull_request(
    ws: Workspace, baseline: str | None, trusted_ref: str | None, trust_working_tree: bool
) -> None:
    """In a GitHub pull-request job, HEAD is the pull request's own commit: say so."""
    from promptyard.evals.gate import trusted_commit

    if trusted_ref or trust_working_tree or not os.environ.get("GITHUB_BASE_REF"):
        return
    try:
        source, _ = trusted_commit(ws, baseline, None)
    except PromptyardError:
        return
    if source.startswith("HEAD"):
        typer.echo(
            "warning: the gate trusts HEAD, which in a pull request is the pull request's own "
            "commit; pass --baseline (or --trusted-ref) origin/$GITHUB_BASE_REF (docs/ci.md)",
            err=True,
        )


def score_cmd(
    run_id: int = typer.Argument(..., help="The run to score"),
    suite: str = typer.Option(..., "--suite", "-s", help="Score with this suite's assertions"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score an existing run with a suite's assertions (stored cells are not changed)."""
    from promptyard import evals

    ws = current_workspace()
    try:
        loaded = evals.load_suite(ws, suite, check_refs=False)
        if loaded.uses_custom_code():
            typer.echo(
                f"note: suite {suite} runs custom Python evaluators from evaluators/ "
                f"({', '.join(loaded.uses_custom_code())}): this executes code from the workspace",
                err=True,
            )
        scores = evals.score_run(ws, run_id, loaded)
    except PromptyardError as exc:
        fail(str(exc), 2)
    if as_json:
        emit_json(scores.to_dict())
        return
    width = max((len(v.label) for v in scores.variants), default=7)
    typer.echo(f"{'variant':<{width}}  cells  passed  pass rate  mean score  judge $")
    for v in scores.variants:
        typer.echo(
            f"{v.label:<{width}}  {v.cells:>5}  {v.passed:>6}  {v.pass_rate:>9.0%}  "
            f"{v.mean_score:>10.2f}  {v.judge_cost_usd:.4f}"
        )
    for err in scores.evaluator_errors[:5]:
        typer.echo(f"evaluator error: {err}", err=True)
    typer.echo(
        f"stored {len(scores.cells)} cells' scores under suite {scores.suite!r} on run {run_id}"
    )


def calibrate_cmd(
    run_id: int | None = typer.Option(None, "--run", help="Only this run"),
    evaluator: str = typer.Option("llm-rubric", "--evaluator", help="The judge's evaluator type"),
    name: str | None = typer.Option(None, "--name", help="Only this assertion name"),
    scheme: str | None = typer.Option(None, "--scheme", help="Only ratings of this scheme"),
    top: int = typer.Option(10, "--top", help="How many disagreeing cells to list"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """How far a judge agrees with human ratings on the cells both scored."""
    from promptyard import evals

    cal = evals.calibrate(
        current_workspace(), evaluator, run_id=run_id, scheme=scheme, name=name, top=top
    )
    if as_json:
        emit_json(cal.to_dict())
        return
    if cal.n == 0:
        typer.echo("No cell has both a human rating (with a score) and a judge score yet.")
        return

    def fmt(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    typer.echo(
        f"{cal.n} cells: Pearson {fmt(cal.pearson)}, Spearman {fmt(cal.spearman)}, "
        f"Cohen's kappa (pass/fail) {fmt(cal.kappa)}, agreement {fmt(cal.agreement)}"
    )
    for statistic, reason in cal.reasons.items():
        typer.echo(f"  — {statistic}: {reason}")
    for d in cal.disagreements:
        snippet = " ".join((d.output or "").split())[:60]
        typer.echo(
            f"  cell {d.cell_id} (run {d.run_id}, row {d.row_id}): human {d.human:.2f} judge {d.judge:.2f}  {snippet}"
        )


def suites_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the workspace's eval suites and whether each one is valid."""
    from promptyard import evals

    ws = current_workspace()
    found = []
    for name in evals.list_suites(ws):
        try:
            s = evals.load_suite(ws, name)
            found.append({"name": name, "ok": True, **s.to_dict()})
        except PromptyardError as exc:
            found.append({"name": name, "ok": False, "error": str(exc)})
    if as_json:
        emit_json(found)
        return
    if not found:
        typer.echo("No suites yet: add evals/NAME.yaml (see docs/evaluators.md).")
    for f in found:
        detail = f.get("description") if f["ok"] else f"! {f['error']}"
        typer.echo(f"{f['name']}  {detail}")


def evaluators_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the assertion types a suite can use."""
    from promptyard import evals

    items = evals.describe()
    if as_json:
        emit_json(items)
        return
    width = max(len(i["type"]) for i in items)
    for i in items:
        source = "" if i["source"] == "built-in" else f"  [plugin: {i['source']}]"
        typer.echo(
            f"{i['type']:<{width}}  {'(not-) ' if i['negatable'] else '       '}"
            f"{i['description']}{source}"
        )
    typer.echo(f"\nnote: {evals.CUSTOM_NOTE}")
