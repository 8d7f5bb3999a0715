"""`promptyard team`: the roles in force, and a check of team.yaml before it is committed."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import emit_json, fail
from promptyard.workspace import current_workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def team(
        check: bool = typer.Option(
            False, "--check", help="Only check the working tree's team.yaml (exit 1 on a mistake)"
        ),
        workspace: Path | None = typer.Option(None, "--workspace", help="Workspace folder"),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Who is an admin, editor, rater or viewer (team.yaml), and whether sign-in is on."""
        from promptyard.team import TEAM_FILE, TeamError, load_team, parse_team, signin_config

        ws = current_workspace(workspace)
        if check:
            target = ws.root / TEAM_FILE
            if not target.is_file():
                fail(f"{TEAM_FILE} does not exist in {ws.root}")
            try:
                members = parse_team(target.read_text(encoding="utf-8"))
            except TeamError as exc:
                fail(str(exc))
            typer.echo(f"{TEAM_FILE}: {len(members)} member(s), no mistakes")
            return
        roles = load_team(ws)
        signin = signin_config(ws)
        if as_json:
            emit_json(
                {
                    "signin": signin is not None,
                    "source": roles.source,
                    "warning": roles.warning,
                    "members": {k: str(v) for k, v in roles.members.items()},
                }
            )
            return
        typer.echo(f"Sign-in: {'on' if signin else 'off (everyone local acts as admin)'}")
        if roles.warning:
            typer.echo(f"warning: {roles.warning}", err=True)
        if not roles.members:
            typer.echo(f"Nobody is listed in {TEAM_FILE} ({roles.source}).")
        for key, role in sorted(roles.members.items(), key=lambda kv: (kv[1], kv[0])):
            typer.echo(f"  {role:<7} {key}")
