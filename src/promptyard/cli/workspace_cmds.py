"""`promptyard init` and `promptyard ui`."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import typer

from promptyard.cli._common import emit_json, fail
from promptyard.versioning import examples_root, init_workspace_report
from promptyard.workspace import HOME_ENV, current_workspace


def app_entry() -> Path:
    """The Streamlit entry script: the installed copy, else the source tree's."""
    packaged = Path(__file__).resolve().parents[1] / "_app" / "main.py"
    if packaged.is_file():
        return packaged
    return examples_root() / "app" / "main.py"


def server_entry() -> Path:
    """What `promptyard ui` serves: `server.py`, Streamlit's `st.App` around the entry script
    (it tells each page where the server's base is, and warms the model layer at start)."""
    return app_entry().with_name("server.py")


def streamlit_config_file() -> Path:
    """The product's Streamlit config: the wheel's copy beside the app, else the source tree's."""
    packaged = app_entry().parent / ".streamlit" / "config.toml"
    if packaged.is_file():
        return packaged
    return examples_root() / ".streamlit" / "config.toml"


def streamlit_flags(config_file: Path) -> list[str]:
    """Every option of `config_file` as `streamlit run` flags (`--client.toolbarMode minimal`).

    Flags outrank every config file and STREAMLIT_* variable, so the product's settings
    hold whatever `.streamlit/config.toml` sits in the folder `promptyard ui` starts from.
    """

    def flatten(prefix: str, table: dict[str, Any]) -> list[str]:
        flags: list[str] = []
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                flags += flatten(name, value)
            else:
                for item in value if isinstance(value, list) else [value]:
                    text = str(item).lower() if isinstance(item, bool) else str(item)
                    flags += [f"--{name}", text]
        return flags

    with config_file.open("rb") as handle:
        return flatten("", tomllib.load(handle))


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
        config_file = streamlit_config_file()
        if not config_file.is_file():
            fail(f"the product's Streamlit config is missing ({config_file}); reinstall Promptyard")
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(server_entry()),
            *streamlit_flags(config_file),
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
        # Streamlit also reads .streamlit/config.toml from the cwd: start where ours ships, so
        # a folder's own file cannot add options ours leaves unset (the flags win the rest).
        os.chdir(config_file.parent.parent)
        # Become the Streamlit server (no child process): stopping `promptyard ui` stops it.
        os.execve(sys.executable, command, env)
