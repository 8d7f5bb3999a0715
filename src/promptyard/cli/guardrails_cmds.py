"""`promptyard guardrails check` and `promptyard guardrails apply`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from promptyard.cli._common import emit_json, fail, workspace


def register(app: typer.Typer) -> None:
    """Add `promptyard guardrails check` and `promptyard guardrails apply`."""
    guard_app = typer.Typer(help="Guardrail policies (guardrails.yaml): check and try them.")
    app.add_typer(guard_app, name="guardrails")

    @guard_app.command("check")
    def check(as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
        """Parse guardrails.yaml: its policies, or the first mistake with its line (exit 1).

        On a mistake, say which committed version runs use meanwhile."""
        from promptyard.guardrails import GUARDRAILS_FILE, GuardrailsError, load_policies
        from promptyard.guardrails import parse_guardrails as parse

        ws = workspace()
        target = ws.root / GUARDRAILS_FILE
        if not target.is_file():
            fail(f"no {GUARDRAILS_FILE} in {ws.root} (promptyard init ships an example)")
        try:
            policies = parse(target.read_text(encoding="utf-8"))
        except GuardrailsError as exc:
            fallback = load_policies(ws)
            typer.echo(f"error: {exc}", err=True)
            typer.echo(
                f"runs use {fallback.source} meanwhile"
                if fallback.policies
                else "no committed version parses: runs naming a policy are refused",
                err=True,
            )
            raise typer.Exit(1) from None
        if as_json:
            emit_json(
                {
                    name: {
                        "input": [f"{c.kind}:{c.action}" for c in p.input],
                        "output": [f"{c.kind}:{c.action}" for c in p.output],
                        "restore": p.restore,
                    }
                    for name, p in policies.items()
                }
            )
            return
        for name, p in policies.items():
            inputs = ", ".join(f"{c.kind} {c.action}" for c in p.input) or "none"
            outputs = ", ".join(f"{c.kind} {c.action}" for c in p.output) or "none"
            restore = "; restores masked values" if p.restore else ""
            typer.echo(f"{name}: input {inputs}; output {outputs}{restore}")

    @guard_app.command("apply")
    def apply(
        policy: str = typer.Argument(..., help="a policy of guardrails.yaml"),
        text: str | None = typer.Option(None, "--text", help="the input (else stdin)"),
        file: Path | None = typer.Option(None, "--file", help="read the input from FILE"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Run the policy's input checks on a text: what the model would be sent, and what
        was masked, flagged or blocked. No model is called."""
        from promptyard.guardrails import guard

        if text is None:
            text = file.read_text(encoding="utf-8") if file else sys.stdin.read()
        g = guard(policy, workspace=workspace())
        safe = g.input(text)
        sent = str(safe.messages[0]["content"])
        record = safe.record
        if as_json:
            emit_json({"sent": sent, "record": record.to_dict()})
        else:
            typer.echo(sent, nl=not sent.endswith("\n"))
            typer.echo(record.summary(), err=True)
        if record.blocked:
            raise typer.Exit(1)
