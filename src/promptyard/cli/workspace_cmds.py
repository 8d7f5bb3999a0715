"""`promptyard init` and `promptyard ui`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from promptyard.cli._common import emit_json
from promptyard.versioning import examples_root, init_workspace_report
from promptyard.workspace import HOME_ENV, current_workspace


def app_entry() -> Path:
    """The Streamlit entry script: the installed copy, else the source tree's."""
    packaged = Path(__file__).resolve().parents[1] / "_app" / "main.py"
    if packaged.is_file():
        return packaged
    return examples_root() / "app" / "main.py"


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        directory: Path = typer.Argument(Path("."), help="Folder of the new workspace"),
        no_examples: bool = typer.Option(False, "--no-examples", help="Skip the example files"),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Make a workspace: git init when needed, example prompts and datasets committed.

        Running it again changes nothing and never overwrites a file.
        """
        result = init_workspace_report(directory, examples=not no_examples)
        if as_json:
            emit_json(
                {
                    "root": str(result.workspace.root),
                    "created_repo": result.created_repo,
                    "added": result.added,
                    "skipped": result.skipped,
                }
            )
            return
        typer.echo(f"Workspace: {result.workspace.root}")
        if result.created_repo:
            typer.echo("Made a new git repository.")
        for rel in result.added:
            typer.echo(f"  added {rel}")
        if not result.added:
            typer.echo("Nothing to add: the workspace is complete.")

    @app.command()
    def ui(
        port: int = typer.Option(8501, "--port", help="Port to serve on"),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind"),
        workspace: Path | None = typer.Option(None, "--workspace", help="Workspace folder"),
    ) -> None:
        """Start the workbench in the browser."""
        ws = current_workspace(workspace)
        env = {**os.environ, HOME_ENV: str(ws.root)}
        config_dir = examples_root()
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app_entry()),
            "--server.port",
            str(port),
            "--server.address",
            host,
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        typer.echo(f"Promptyard on http://{host}:{port}  (workspace {ws.root})", err=True)
        # Streamlit reads .streamlit/config.toml from the cwd: run from where it ships.
        if (config_dir / ".streamlit" / "config.toml").is_file():
            os.chdir(config_dir)
        # Become the Streamlit server (no child process): stopping `promptyard ui` stops it.
        os.execve(sys.executable, command, env)
