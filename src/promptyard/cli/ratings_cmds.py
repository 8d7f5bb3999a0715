"""`promptyard ratings ...`: export ratings, list schemes, agreement and pairwise results."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import emit_json
from promptyard.workspace import current_workspace

ratings_app = typer.Typer(help="Human ratings: schemes, exports, agreement.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ratings_app, name="ratings")


@ratings_app.command("export")
def export_cmd(
    run_id: int = typer.Argument(..., help="The run whose ratings to export"),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or jsonl"),
    history: bool = typer.Option(False, "--history", help="Include superseded ratings"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout"),
) -> None:
    """Export a run's ratings: rater, time, scheme and its version, value, score."""
    from promptyard import ratings  # numpy and the database: only when asked

    body = ratings.export_ratings(current_workspace(), run_id, fmt, history=history)
    if output is None:
        typer.echo(body, nl=False)
        return
    output.write_text(body, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


@ratings_app.command("schemes")
def schemes_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the rating schemes of the workspace (ratings.yaml)."""
    from promptyard import ratings

    schemes = ratings.load_schemes(current_workspace())
    if as_json:
        emit_json([s.to_dict() for s in schemes])
        return
    for s in schemes:
        typer.echo(f"{s.name:<16} {s.describe()}")


@ratings_app.command("agreement")
def agreement_cmd(
    run_id: int = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Agreement between raters per scheme, and the most disputed cells."""
    from promptyard.ratings.agreement import run_agreement

    reports = run_agreement(current_workspace(), run_id)
    if as_json:
        emit_json(
            [
                {
                    "scheme": r.scheme,
                    "raters": r.raters,
                    "cells_rated": r.cells_rated,
                    "cells_shared": r.cells_shared,
                    "cohen_kappa": r.cohen_kappa,
                    "fleiss_kappa": r.fleiss_kappa,
                    "krippendorff_alpha": r.krippendorff_alpha,
                    "disputed": [d.__dict__ for d in r.disputed],
                }
                for r in reports
            ]
        )
        return
    if not reports:
        typer.echo(f"Run {run_id} has no ratings yet.")
        return
    for r in reports:
        alpha = "n/a" if r.krippendorff_alpha is None else f"{r.krippendorff_alpha:.3f}"
        kappa = r.cohen_kappa if r.cohen_kappa is not None else r.fleiss_kappa
        shown = "n/a" if kappa is None else f"{kappa:.3f}"
        typer.echo(
            f"{r.scheme:<12} raters={len(r.raters)} shared cells={r.cells_shared} "
            f"{'Cohen' if r.cohen_kappa is not None else 'Fleiss'} kappa={shown} alpha={alpha}"
        )


@ratings_app.command("pairwise")
def pairwise_cmd(
    run_id: int = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Blind pairwise results: win rate with a 95% interval and Bradley-Terry score."""
    from promptyard import ratings

    standings = ratings.pairwise_results(current_workspace(), run_id)
    if as_json:
        emit_json([s.__dict__ for s in standings])
        return
    if not standings:
        typer.echo(f"Run {run_id} has no pairwise votes yet.")
        return
    for s in standings:
        typer.echo(
            f"{s.label:<40} win {s.win_rate:6.1%} [{s.ci_low:.1%}, {s.ci_high:.1%}] "
            f"BT {s.bt_elo:7.1f}  n={s.comparisons}"
        )
