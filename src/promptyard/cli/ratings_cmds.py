"""`promptyard ratings ...`: export ratings, list schemes, agreement and pairwise results."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import emit_json
from promptyard.workspace import current_workspace

UNDEFINED = "—"  # how an undefined statistic is shown, as on the Rate page

ratings_app = typer.Typer(help="Human ratings: schemes, exports, agreement.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ratings_app, name="ratings")


@ratings_app.command("export")
def export_cmd(
    run_id: int = typer.Argument(..., help="The run whose ratings to export"),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or jsonl"),
    history: bool = typer.Option(False, "--history", help="Include superseded ratings"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout"),
    raw: bool = typer.Option(
        False, "--raw", help="Write CSV cells as stored (no ' before =, +, -, @, tab, CR)"
    ),
) -> None:
    """Export a run's ratings: rater, time, scheme and its version, value, score.

    CSV cells a spreadsheet would run as formulas get a ' in front, unless --raw.
    """
    from promptyard import ratings  # numpy and the database: only when asked

    body = ratings.export_ratings(current_workspace(), run_id, fmt, history=history, raw=raw)
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
    from promptyard import ratings

    reports = ratings.run_agreement(current_workspace(), run_id)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    if not reports:
        typer.echo(f"Run {run_id} has no ratings yet.")
        return
    for r in reports:
        kappa = "cohen_kappa" if len(r.raters) == 2 else "fleiss_kappa"
        shown = {name: getattr(r, name) for name in (kappa, "krippendorff_alpha")}
        text = {k: UNDEFINED if v is None else f"{v:.3f}" for k, v in shown.items()}
        typer.echo(
            f"{r.scheme:<12} raters={len(r.raters)} shared cells={r.cells_shared} "
            f"{'Cohen' if kappa == 'cohen_kappa' else 'Fleiss'} kappa={text[kappa]} "
            f"{r.level} alpha={text['krippendorff_alpha']}"
        )
        # each reason once: often both statistics are undefined for the same one
        for reason in dict.fromkeys(r.reasons[k] for k in shown if k in r.reasons):
            typer.echo(f"{'':<12} {UNDEFINED} {reason}")


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
        interval = (
            UNDEFINED
            if s.ci_low is None or s.ci_high is None
            else f"{s.ci_low:.1%}, {s.ci_high:.1%}"
        )
        typer.echo(
            f"{s.label:<40} win {s.win_rate:6.1%} [{interval}] "
            f"BT {s.bt_elo:7.1f}  n={s.comparisons}"
        )
