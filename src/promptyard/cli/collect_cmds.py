"""`promptyard collect`: receive OpenTelemetry traces (OTLP/HTTP) and end users' feedback."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from promptyard.workspace import current_workspace


def register(app: typer.Typer) -> None:
    """Add `promptyard collect` to the `promptyard` app."""

    @app.command("collect")
    def collect(
        port: int = typer.Option(
            4318,
            "--port",
            envvar="PROMPTYARD_COLLECTOR_PORT",
            show_envvar=True,
            help="Port to serve OTLP/HTTP on (0 picks a free one).",
        ),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
        workspace: Path | None = typer.Option(None, "--workspace", help="Workspace folder."),
        max_body_mb: float = typer.Option(
            32.0, "--max-body-mb", help="Refuse request bodies over this size (413)."
        ),
        watch_pid: int | None = typer.Option(
            None, "--watch-pid", help="Stop when the process with this id ends (the workbench)."
        ),
        online_every: float = typer.Option(
            60.0,
            "--online-eval-every",
            help="Seconds between online-eval passes in the worker (0: none).",
        ),
    ) -> None:
        """Store the traces an app sends over OpenTelemetry (POST /v1/traces, protobuf or JSON).

        Point an app's exporter at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:PORT.
        End users' feedback goes to POST /v1/feedback (promptyard.feedback in Python).
        Stop with Ctrl-C.
        """
        from promptyard.traces import CollectorHandle

        ws = current_workspace(workspace)
        handle = CollectorHandle(
            ws,
            port=port,
            host=host,
            max_body_bytes=int(max_body_mb * 1024**2),
            watch_pid=watch_pid,
        ).start()
        if online_every > 0:
            # Suites with `online:` score new spans in the background worker.
            from promptyard.evals.online_jobs import start_online_poller

            start_online_poller(ws, online_every)
        # SIGTERM (the workbench's script stopping) ends the loop as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: handle.stop())
        typer.echo(f"Collecting traces on {handle.url}/v1/traces  (workspace {ws.root})", err=True)
        try:
            handle.serve_forever()
        except KeyboardInterrupt:
            pass
