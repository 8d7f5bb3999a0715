"""`promptyard export finetune`: OpenAI fine-tuning JSONL from ratings, votes and traces."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import emit_json, fail, workspace

export_app = typer.Typer(
    help="Export data out of Promptyard: fine-tuning files.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")


@export_app.command("finetune")
def finetune(
    runs: list[int] = typer.Argument(None, help="Run ids to take examples from"),
    fmt: str = typer.Option(
        "sft", "--format", help="sft (chat examples) or dpo (preference pairs)"
    ),
    min_score: float = typer.Option(
        0.75, "--min-score", help="The bar (0..1) a rating, suite score or feedback must clear"
    ),
    scheme: str = typer.Option(None, "--scheme", help="Judge by this rating scheme only"),
    traces: bool = typer.Option(
        False, "--traces", help="Also take production traces with feedback"
    ),
    model: str = typer.Option(
        "gpt-4o-mini-2024-07-18", "--model", help="The model to fine-tune: token limit and price"
    ),
    out: Path = typer.Option(
        None, "--out", help="The file to write (default finetune-FORMAT.jsonl)"
    ),
    as_json: bool = typer.Option(False, "--json", help="The summary as JSON on stdout"),
) -> None:
    """Write supervised examples (cells whose rating or suite score clears the bar) or
    preference pairs (blind A/B votes) as OpenAI fine-tuning JSONL, checked and priced."""
    from promptyard import finetune as ft

    ws = workspace()
    export = ft.build_finetune(
        ws, list(runs or []), fmt, min_score=min_score, scheme=scheme, traces=traces, model=model
    )
    reason = export.empty_reason
    if reason:
        fail(f"{reason}; no file written")
    target = out or Path(f"finetune-{export.format.value}.jsonl")
    path = ft.write_finetune(export, target)
    if as_json:
        v, e = export.validation, export.estimate
        emit_json(
            {
                "path": str(path),
                "format": export.format.value,
                "examples": export.count,
                "sources": dict(export.collected.sources),
                "below_bar": export.collected.below_bar,
                "unscored": export.collected.unscored,
                "tokens": v.total_tokens,
                "max_tokens_per_example": max(v.tokens, default=0),
                "over_limit": v.over_limit,
                "model": export.model,
                "epochs": e.epochs,
                "training_tokens": e.training_tokens,
                "estimated_cost_usd": None if e.usd is None else round(e.usd, 6),
            }
        )
        return
    for line in export.summary_lines():
        typer.echo(line)
    typer.echo(f"wrote {path}")
