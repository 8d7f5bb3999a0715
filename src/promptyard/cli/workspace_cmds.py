"""`promptyard init` and `promptyard ui`."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import typer

from promptyard.cli._common import emit_json, fail
from promptyard.errors import PromptyardError
from promptyard.workspace import HOME_ENV, current_workspace


def app_entry() -> Path:
    """The Streamlit entry script: the installed copy, else the source tree's."""
    from promptyard.versioning import examples_root

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
    from promptyard.versioning import examples_root

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
        from promptyard.versioning import init_workspace_report

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
        allow_anonymous: bool = typer.Option(
            False,
            "--allow-anonymous",
            help="Serve beyond loopback without sign-in (only on a network you trust)",
        ),
    ) -> None:
        """Start the workbench in the browser.

        With an \\[auth] section in the workspace's .streamlit/secrets.toml everyone signs in
        (docs/team.md). Without one it listens beyond loopback only with --allow-anonymous.
        """
        from promptyard.cli.ui_serve import check_start, serve
        from promptyard.team import secrets_file

        ws = current_workspace(workspace)
        try:
            signin = check_start(ws, host, allow_anonymous)
        except PromptyardError as exc:
            fail(str(exc))
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
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        secrets = secrets_file(ws)
        if secrets is not None:
            # Streamlit reads st.login's [auth] and the keys from the workspace's own file.
            command += ["--secrets.files", str(secrets)]
        mode = f"sign-in with {signin.server_metadata_url}" if signin else "no sign-in"
        typer.echo(f"Promptyard on http://{host}:{port}  (workspace {ws.root}; {mode})", err=True)
        # Streamlit also reads .streamlit/config.toml from the cwd: start where ours ships, so
        # a folder's own file cannot add options ours leaves unset (the flags win the rest).
        raise typer.Exit(serve(command, env, config_file.parent.parent, host, port))
